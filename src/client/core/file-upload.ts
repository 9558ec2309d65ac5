/**
 * One upload: POST /api/v1/rooms/:roomId/files as multipart/form-data. XMLHttpRequest,
 * not fetch, because only it reports upload progress; it can be aborted.
 */
import type { FileInfo } from '../../shared/file-shapes.js';
import { ApiError, errorFromAnswer, sessionEnded, stateChangeHeaders } from './api.js';

export interface UploadHandle {
  /** The stored file; rejects with an ApiError (status 0: not reached, code 'aborted': cancelled). */
  done: Promise<FileInfo>;
  abort(): void;
}

interface UploadOptions {
  /** Keep the image's EXIF metadata (location, camera); stripped by default. */
  keepMetadata?: boolean;
  onProgress?: (loaded: number, total: number) => void;
}

export function uploadFile(roomId: string, file: Blob & { name?: string }, options: UploadOptions = {}): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<FileInfo>((resolve, reject) => {
    xhr.open('POST', `/api/v1/rooms/${encodeURIComponent(roomId)}/files`);
    for (const [name, value] of Object.entries(stateChangeHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => options.onProgress?.(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onload = () => {
      if (xhr.status === 200 || xhr.status === 201) {
        try {
          resolve((JSON.parse(xhr.responseText) as { file: FileInfo }).file);
        } catch {
          reject(new ApiError(xhr.status, 'http_error', 'The server sent an answer this page cannot read. Try again.'));
        }
        return;
      }
      if (xhr.status === 401) sessionEnded();
      reject(errorFromAnswer(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'Could not reach the server. Check your connection and try again.'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Cancelled.'));
    const form = new FormData();
    // Before the file part: the server reads fields in order and streams the file as it comes.
    if (options.keepMetadata) form.append('keepMetadata', 'true');
    form.append('file', file, file.name ?? 'file');
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}
