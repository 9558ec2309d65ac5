/**
 * A column beside the chat on wide screens that becomes an offcanvas overlay below
 * `breakpoint` (Bootstrap's responsive offcanvas classes, driven without its JS).
 * As an overlay it takes focus, keeps Tab inside, and closes on Escape or backdrop.
 */
import type { ComponentChildren, TargetedKeyboardEvent } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useMediaQuery } from '../hooks.js';
import { focusFirst, trapTab } from './focus.js';

const BREAKPOINT_MIN_WIDTH = { md: 768, lg: 992 } as const;

interface SidePanelProps {
  id: string;
  title: string;
  side: 'start' | 'end';
  breakpoint: keyof typeof BREAKPOINT_MIN_WIDTH;
  open: boolean;
  /** Whether `open` also shows/hides the column on wide screens. */
  collapsible?: boolean;
  onClose: () => void;
  class?: string;
  children: ComponentChildren;
}

export function SidePanel(props: SidePanelProps) {
  const { id, title, side, breakpoint, open, collapsible = false, onClose, class: className = '', children } = props;
  const panel = useRef<HTMLDivElement>(null);
  const isOverlay = useMediaQuery(`(max-width: ${BREAKPOINT_MIN_WIDTH[breakpoint] - 0.02}px)`);
  const overlayOpen = isOverlay && open;

  useEffect(() => {
    if (!overlayOpen || !panel.current) return;
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    focusFirst(panel.current);
    return () => previous?.focus();
  }, [overlayOpen]);

  function onKeyDown(event: TargetedKeyboardEvent<HTMLDivElement>) {
    if (!overlayOpen || !panel.current) return;
    if (event.key === 'Escape') {
      event.stopPropagation();
      onClose();
    } else {
      trapTab(event, panel.current);
    }
  }

  return (
    <>
      <div
        ref={panel}
        id={id}
        class={`side-panel offcanvas-${breakpoint} offcanvas-${side} ${open ? 'show' : ''} ${
          collapsible && !open ? 'side-panel-collapsed' : ''
        } ${className}`}
        aria-label={title}
        role={overlayOpen ? 'dialog' : undefined}
        aria-modal={overlayOpen ? 'true' : undefined}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <div class="offcanvas-header border-bottom">
          <h2 class="offcanvas-title h5">{title}</h2>
          <button type="button" class="btn-close" aria-label={`Close ${title.toLowerCase()}`} onClick={onClose} />
        </div>
        <div class="offcanvas-body">
          {/* The offcanvas header is hidden on wide screens; the column keeps a small title. */}
          <h2 class={`side-panel-title d-none d-${breakpoint}-block`}>{title}</h2>
          {children}
        </div>
      </div>
      {overlayOpen && <div class="offcanvas-backdrop fade show" onClick={onClose} />}
    </>
  );
}
