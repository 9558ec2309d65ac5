/** Entry point: styles, the saved theme (applied from the bundle, as the CSP forbids inline script), the app. */
import 'bootstrap/dist/css/bootstrap.min.css';
import './styles.css';
import { render } from 'preact';
import { App } from './app.js';
import { loadSession } from './session.js';
import { applyTheme, storedTheme } from './theme.js';

applyTheme(storedTheme());
void loadSession();

const root = document.getElementById('app');
if (root) render(<App />, root);
