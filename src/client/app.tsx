/** The application shell: session gate, routing, and the chat client's lifetime. */
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { ChatStore } from './core/chat-store.js';
import { AppHeader } from './components/AppHeader.js';
import { loginPath, matchRoute, type Route } from './paths.js';
import { Redirect, useLocation } from './router.js';
import { loadSession, useSession, type SessionState } from './session.js';
import { ChatView } from './views/ChatView.js';
import { InviteView } from './views/InviteView.js';
import { LandingView } from './views/LandingView.js';
import { LoginView } from './views/LoginView.js';
import { NotFoundView } from './views/NotFoundView.js';
import { RegisterView } from './views/RegisterView.js';
import { SettingsView } from './views/SettingsView.js';

export function App() {
  const session = useSession();
  const location = useLocation();
  const route = matchRoute(location.pathname, location.search);
  const user = session.status === 'signed-in' ? session.user : null;

  // One live client per signed-in user, kept across screens so the socket stays up.
  const chat = useMemo(() => (user ? new ChatStore(user) : null), [user?.id]);
  useEffect(() => {
    if (!chat) return;
    chat.start();
    return () => chat.stop();
  }, [chat]);

  useFocusOnScreenChange(route.name);

  return (
    <div class="app-shell">
      <a class="visually-hidden-focusable skip-link" href="#main">
        Skip to content
      </a>
      <AppHeader chat={chat} />
      <main id="main" tabIndex={-1} class={route.name === 'chat' ? 'app-main app-main-chat' : 'app-main'}>
        <Screen route={route} session={session} chat={chat} path={location.pathname + location.search} />
      </main>
    </div>
  );
}

interface ScreenProps {
  route: Route;
  session: SessionState;
  chat: ChatStore | null;
  path: string;
}

function Screen({ route, session, chat, path }: ScreenProps) {
  if (session.status === 'loading') {
    return (
      <div class="m-auto p-5 text-body-secondary" role="status">
        <span class="spinner-border spinner-border-sm me-2" aria-hidden="true" />
        Loading…
      </div>
    );
  }
  if (session.status === 'unreachable') {
    return (
      <div class="container py-5">
        <div class="alert alert-danger d-flex align-items-center gap-2" role="alert">
          <span class="flex-grow-1">{session.message}</span>
          <button type="button" class="btn btn-outline-danger btn-sm" onClick={() => void loadSession()}>
            Try again
          </button>
        </div>
      </div>
    );
  }

  switch (route.name) {
    case 'landing':
      return chat ? <Redirect to="/chat" /> : <LandingView />;
    case 'login':
      return chat ? <Redirect to={route.next ?? '/chat'} /> : <LoginView next={route.next} />;
    case 'register':
      return chat ? <Redirect to={route.next ?? '/chat'} /> : <RegisterView next={route.next} />;
    case 'chat':
      return chat ? <ChatView chat={chat} roomId={route.roomId} /> : <Redirect to={loginPath(path)} />;
    case 'invite':
      return <InviteView chat={chat} code={route.code} />;
    case 'settings':
      return chat ? <SettingsView /> : <Redirect to={loginPath(path)} />;
    case 'not-found':
      return <NotFoundView />;
  }
}

/** After moving to another screen, put keyboard and screen-reader focus on its heading. */
function useFocusOnScreenChange(screen: Route['name']): void {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [screen]);
}
