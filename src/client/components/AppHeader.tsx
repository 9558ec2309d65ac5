import type { ChatStore } from '../core/chat-store.js';
import { Link } from '../router.js';
import { ConnectionStatus } from './ConnectionStatus.js';
import { Icon } from './Icon.js';
import { MessageSearch } from './MessageSearch.js';
import { ThemeToggle } from './ThemeToggle.js';

/** The top bar; `chat` (present while signed in) supplies the connection state. */
export function AppHeader({ chat }: { chat: ChatStore | null }) {
  const signedIn = chat !== null;
  return (
    <header class="navbar border-bottom px-3 py-2 gap-2 flex-nowrap">
      <Link class="navbar-brand d-flex align-items-center gap-2 me-auto" href={signedIn ? '/chat' : '/'}>
        <Icon name="shield" class="text-primary" />
        SecureChat
      </Link>
      {chat && <MessageSearch chat={chat} />}
      {chat && <ConnectionStatus chat={chat} />}
      <ThemeToggle />
      {signedIn ? (
        <Link class="btn btn-outline-secondary btn-sm" href="/settings" title="Settings">
          <Icon name="settings" />
          <span class="visually-hidden">Settings</span>
        </Link>
      ) : (
        <nav class="d-flex gap-2" aria-label="Account">
          <Link class="btn btn-outline-secondary btn-sm" href="/login">
            Log in
          </Link>
          <Link class="btn btn-primary btn-sm" href="/register">
            Register
          </Link>
        </nav>
      )}
    </header>
  );
}
