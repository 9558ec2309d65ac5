/**
 * Files dragged from the desktop onto `zone` (the open room): the zone is marked while
 * they hover over it, and dropped files go to `onFiles`. A file dropped just beside it
 * is refused rather than opened by the browser in place of the app. Other drags (text,
 * links) are left to the browser.
 */
import type { RefObject } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

const ACTIVE_CLASS = 'drop-active';

const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;

export function useFileDrop(zone: RefObject<HTMLElement | null> | undefined, onFiles: (files: File[]) => void): void {
  // The latest callback, so the listeners are attached once per zone.
  const latest = useRef(onFiles);
  latest.current = onFiles;
  useEffect(() => {
    const element = zone?.current;
    if (!element) return;
    // dragenter/dragleave fire for every child crossed: count them to know when it really left.
    let depth = 0;
    const over = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    };
    const enter = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      depth += 1;
      element.classList.add(ACTIVE_CLASS);
    };
    const leave = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) element.classList.remove(ACTIVE_CLASS);
    };
    const drop = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      element.classList.remove(ACTIVE_CLASS);
      const files = [...(event.dataTransfer?.files ?? [])];
      if (files.length > 0) latest.current(files);
    };
    // Outside the zone: no drop, so a near miss does not navigate away from the chat.
    const refuse = (event: DragEvent) => {
      if (!carriesFiles(event) || element.contains(event.target as Node)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'none';
    };
    const listeners: Array<[EventTarget, string, (event: DragEvent) => void]> = [
      [window, 'dragover', refuse],
      [window, 'drop', refuse],
      [element, 'dragover', over],
      [element, 'dragenter', enter],
      [element, 'dragleave', leave],
      [element, 'drop', drop],
    ];
    for (const [target, type, listener] of listeners) target.addEventListener(type, listener as EventListener);
    return () => {
      element.classList.remove(ACTIVE_CLASS);
      for (const [target, type, listener] of listeners) target.removeEventListener(type, listener as EventListener);
    };
  }, [zone]);
}
