import { useState } from 'preact/hooks';
import { saveTheme, storedTheme, type Theme } from '../theme.js';
import { Icon } from './Icon.js';

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(storedTheme);
  const next: Theme = theme === 'dark' ? 'light' : 'dark';
  function toggle() {
    saveTheme(next);
    setTheme(next);
  }
  return (
    <button type="button" class="btn btn-outline-secondary btn-sm" onClick={toggle} title={`Switch to ${next} theme`}>
      <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
      <span class="visually-hidden">Switch to {next} theme</span>
    </button>
  );
}
