/** A fenced code block: monospace, scrolls sideways, and a Copy button (Clipboard API). */
import { useEffect, useState } from 'preact/hooks';
import { Icon } from '../components/Icon.js';
import { VisibleText } from '../components/VisibleText.js';

const COPIED_FOR_MS = 2_000;

type CopyState = 'idle' | 'copied' | 'failed';

export function CodeBlock({ code, lang }: { code: string; lang: string | undefined }) {
  const [state, setState] = useState<CopyState>('idle');

  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), COPIED_FOR_MS);
    return () => clearTimeout(timer);
  }, [state]);

  function copy() {
    // Not there on an insecure origin; then the reader selects the text by hand.
    const clipboard = typeof navigator === 'undefined' ? undefined : navigator.clipboard;
    if (!clipboard) return setState('failed');
    clipboard.writeText(code).then(
      () => setState('copied'),
      () => setState('failed'),
    );
  }

  const language = lang?.trim().split(/\s/)[0];
  return (
    <div class="md-code" data-testid="code-block">
      <div class="md-code-bar small">
        <span class="text-body-secondary">{language ? <VisibleText text={language} /> : 'code'}</span>
        <button type="button" class="btn btn-link btn-sm py-0 px-1" data-testid="copy-code" onClick={copy} aria-live="polite">
          <Icon name={state === 'copied' ? 'check' : 'copy'} />{' '}
          {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : 'Copy'}
        </button>
      </div>
      {/* Trojan Source: a bidi control in code is shown, not obeyed, like anywhere else. */}
      <pre class="mb-0" tabIndex={0}>
        <code>
          <VisibleText text={code} />
        </code>
      </pre>
    </div>
  );
}
