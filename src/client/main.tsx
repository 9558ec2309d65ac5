/** Entry point: styles, the theme (saved, or the system's; applied from the bundle, as the CSP forbids inline script), the app. */
import 'bootstrap/dist/css/bootstrap.min.css';
import './styles.css';
import './messages.css';
import './attachments.css';
import './search.css';
import { render } from 'preact';
import { App } from './app.js';
import { loadSession } from './session.js';
import { followTheme } from './theme.js';

followTheme();
void loadSession();

const root = document.getElementById('app');
if (root) render(<App />, root);
