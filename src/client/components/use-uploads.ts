/**
 * The composer's uploads: each file added (button, drop or paste) starts uploading at
 * once; it can be cancelled, retried when it fails, or removed. Leaving the room (the
 * composer unmounts) cancels what is still going.
 */
import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { FileInfo } from '../../shared/file-shapes.js';
import { FILE_LIMITS } from '../../shared/file-shapes.js';
import { ApiError } from '../core/api.js';
import { uploadFile, type UploadHandle } from '../core/file-upload.js';
import { admit, trayReducer, type TrayItem } from '../core/upload-tray.js';

export interface Uploads {
  items: readonly TrayItem[];
  /** Said once when files were turned away (too many for one message). */
  notice: string | null;
  add(files: readonly File[]): void;
  /** Stops an upload in flight and drops it from the tray. */
  cancel(key: string): void;
  retry(key: string): void;
  remove(key: string): void;
  /** Uploads the image again with its metadata kept (or stripped). */
  setKeepMetadata(key: string, keep: boolean): void;
  /** Empties the tray once its files went with a message. */
  clear(): void;
}

let nextKey = 0;

export function useUploads(roomId: string): Uploads {
  const [items, dispatch] = useReducer(trayReducer, [] as readonly TrayItem[]);
  const [notice, setNotice] = useState<string | null>(null);
  // The File and its request, by item key (not state: nothing renders from them).
  const live = useRef(new Map<string, { file: File; handle?: UploadHandle }>());
  const held = useRef(0);
  held.current = items.length;

  useEffect(() => () => {
    for (const entry of live.current.values()) entry.handle?.abort();
    live.current.clear();
  }, []);

  function start(key: string, file: File, keepMetadata: boolean) {
    const handle = uploadFile(roomId, file, { keepMetadata, onProgress: (loaded) => dispatch({ type: 'progress', key, loaded }) });
    live.current.set(key, { file, handle });
    handle.done.then(
      (stored: FileInfo) => {
        if (live.current.get(key)?.handle === handle) dispatch({ type: 'done', key, file: stored });
      },
      (error: unknown) => {
        // A cancelled or replaced attempt says nothing; the item is gone or started again.
        if (live.current.get(key)?.handle !== handle) return;
        if (error instanceof ApiError && error.code === 'aborted') return;
        dispatch({ type: 'failed', key, error: error instanceof ApiError ? error.message : 'The upload failed. Try again.' });
      },
    );
  }

  function drop(key: string) {
    const entry = live.current.get(key);
    live.current.delete(key);
    entry?.handle?.abort();
    dispatch({ type: 'remove', key });
  }

  function restart(key: string, keepMetadata: boolean) {
    const entry = live.current.get(key);
    if (!entry) return;
    entry.handle?.abort();
    dispatch({ type: 'restart', key, keepMetadata });
    start(key, entry.file, keepMetadata);
  }

  return {
    items,
    notice,
    add(files) {
      const { admitted, refused } = admit(held.current, files);
      held.current += admitted.length;
      setNotice(refused > 0 ? `A message can carry at most ${FILE_LIMITS.attachmentsPerMessageMax} files; ${refused} not added.` : null);
      for (const file of admitted) {
        const key = `upload-${++nextKey}`;
        dispatch({ type: 'add', key, name: file.name || 'file', size: file.size, localType: file.type });
        start(key, file, false);
      }
    },
    cancel: drop,
    remove: drop,
    retry(key) {
      restart(key, items.find((item) => item.key === key)?.keepMetadata ?? false);
    },
    setKeepMetadata: restart,
    clear() {
      live.current.clear();
      setNotice(null);
      dispatch({ type: 'clear' });
    },
  };
}
