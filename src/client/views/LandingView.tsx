import { Icon, type IconName } from '../components/Icon.js';
import { useDocumentTitle } from '../hooks.js';
import { Link } from '../router.js';

const FEATURES: ReadonlyArray<{ icon: IconName; title: string; text: string }> = [
  {
    icon: 'lock',
    title: 'Encrypted at rest',
    text: 'Every message is encrypted before it reaches the disk, and the key never leaves your server.',
  },
  {
    icon: 'zap',
    title: 'Real time',
    text: 'Messages arrive instantly, with typing indicators, presence and unread counts.',
  },
  {
    icon: 'users',
    title: 'Rooms for every team',
    text: 'Public rooms anyone can find, private rooms by invitation only.',
  },
];

export function LandingView() {
  useDocumentTitle('');
  return (
    <div class="container py-5 landing">
      <div class="text-center mb-5">
        <h1 class="display-5 fw-semibold" tabIndex={-1}>
          Team chat on your own server
        </h1>
        <p class="lead text-body-secondary mx-auto">
          SecureChat is a self-hosted, encrypted chat for teams: public and private rooms, real-time messages, and
          nothing stored in the clear.
        </p>
        <div class="d-flex gap-2 justify-content-center">
          <Link class="btn btn-primary btn-lg" href="/register">
            Create an account
          </Link>
          <Link class="btn btn-outline-secondary btn-lg" href="/login">
            Log in
          </Link>
        </div>
      </div>
      <ul class="row list-unstyled g-4">
        {FEATURES.map((feature) => (
          <li key={feature.title} class="col-md-4">
            <div class="card h-100">
              <div class="card-body">
                <h2 class="h5 card-title d-flex align-items-center gap-2">
                  <Icon name={feature.icon} class="text-primary" />
                  {feature.title}
                </h2>
                <p class="card-text text-body-secondary">{feature.text}</p>
              </div>
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
