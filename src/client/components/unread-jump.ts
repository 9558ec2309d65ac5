/**
 * "Jump to first unread": offered while the "new messages" divider is above the visible
 * part of the list (or not loaded yet); a jump loads older pages until it is, then
 * scrolls to it. Once the reader has seen the divider, the offer goes away.
 */
import type { RefObject } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { firstSeq, type Timeline } from '../core/timeline.js';

interface JumpProps {
  timeline: Timeline;
  unreadAfterSeq: number | null;
  loadingOlder: boolean;
  onLoadOlder: () => void;
}

export function useJumpToUnread(scroller: RefObject<HTMLDivElement | null>, props: JumpProps) {
  const [visible, setVisible] = useState(false);
  const wanted = useRef(false);
  const done = useRef(false);

  // The first unread is held when the oldest message held is at or before it.
  const first = firstSeq(props.timeline);
  const held =
    props.unreadAfterSeq === null || !props.timeline.hasOlder || (first !== null && first <= props.unreadAfterSeq + 1);

  function divider(): Element | null {
    return scroller.current?.querySelector('[data-testid="unread-divider"]') ?? null;
  }

  function refresh(): void {
    const element = scroller.current;
    const line = divider();
    if (done.current || props.unreadAfterSeq === null || !element) return setVisible(false);
    if (held && line && line.getBoundingClientRect().top >= element.getBoundingClientRect().top) {
      // The divider is (or has been scrolled) into view: the reader has seen where new starts.
      if (line.getBoundingClientRect().top <= element.getBoundingClientRect().bottom) done.current = true;
      return setVisible(false);
    }
    setVisible(!held || line !== null);
  }

  function scrollToDivider(): void {
    divider()?.scrollIntoView({ block: 'start' });
    done.current = true;
    setVisible(false);
  }

  return {
    visible,
    /** After each render of new timeline content. */
    afterRender(): void {
      if (wanted.current) {
        if (held) {
          wanted.current = false;
          return scrollToDivider();
        }
        if (!props.loadingOlder) props.onLoadOlder();
      }
      refresh();
    },
    onScroll: refresh,
    jump(): void {
      if (held) return scrollToDivider();
      wanted.current = true;
      if (!props.loadingOlder) props.onLoadOlder();
    },
  };
}
