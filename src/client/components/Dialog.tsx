/**
 * A modal dialog with Bootstrap's markup and no Bootstrap JS: focus moves in and is
 * kept inside, Escape or the backdrop closes it, and focus returns where it was.
 */
import type { ComponentChildren, TargetedKeyboardEvent } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { focusFirst, trapTab } from './focus.js';

interface DialogProps {
  title: string;
  onClose: () => void;
  /** `.modal-body` / `.modal-footer` content (a form may wrap both). */
  children: ComponentChildren;
  /** Bootstrap's extra-large, centred dialog (an image viewed full size). */
  wide?: boolean;
}

export function Dialog({ title, onClose, children, wide = false }: DialogProps) {
  const container = useRef<HTMLDivElement>(null);
  const titleId = useId();

  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (container.current) focusFirst(container.current);
    document.body.classList.add('modal-open');
    return () => {
      document.body.classList.remove('modal-open');
      previous?.focus();
    };
  }, []);

  function onKeyDown(event: TargetedKeyboardEvent<HTMLDivElement>) {
    if (event.key === 'Escape') {
      event.stopPropagation();
      onClose();
    } else if (container.current) {
      trapTab(event, container.current);
    }
  }

  return (
    <>
      <div
        ref={container}
        class="modal d-block"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        onMouseDown={(event) => event.target === event.currentTarget && onClose()}
      >
        <div class={`modal-dialog modal-dialog-scrollable${wide ? ' modal-xl modal-dialog-centered' : ''}`}>
          <div class="modal-content">
            <div class="modal-header">
              <h2 class="modal-title fs-5" id={titleId}>
                {title}
              </h2>
              <button type="button" class="btn-close" aria-label="Close" onClick={onClose} />
            </div>
            {children}
          </div>
        </div>
      </div>
      <div class="modal-backdrop show" />
    </>
  );
}
