import { useDocumentTitle } from '../hooks.js';
import { Link } from '../router.js';

export function NotFoundView() {
  useDocumentTitle('Page not found');
  return (
    <div class="container py-5 text-center">
      <h1 class="h3" tabIndex={-1}>
        Page not found
      </h1>
      <p class="text-body-secondary">There is nothing at this address.</p>
      <Link class="btn btn-primary" href="/">
        Go to the start page
      </Link>
    </div>
  );
}
