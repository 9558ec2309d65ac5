/**
 * A message's files in the timeline: images as thumbnails whose box is sized from the
 * file's width and height before the bytes come (the list does not jump), opened full
 * size in a dialog; other files as cards with an icon, the name, the size and a download.
 * Names are text, never markup.
 */
import { useState } from 'preact/hooks';
import type { FileInfo } from '../../shared/file-shapes.js';
import { fileIcon, fileUrl, formatBytes, isImage, thumbnailBox, thumbnailUrl } from '../attachments.js';
import { Dialog } from './Dialog.js';
import { Icon } from './Icon.js';

export function Attachments({ files }: { files: readonly FileInfo[] }) {
  const [viewing, setViewing] = useState<FileInfo | null>(null);
  if (files.length === 0) return null;
  const images = files.filter(isImage);
  const others = files.filter((file) => !isImage(file));
  return (
    <div class="attachments" data-testid="attachments">
      {images.length > 0 && (
        <div class="attachment-images">
          {images.map((file) => {
            const box = thumbnailBox(file.width, file.height);
            return (
              <a
                key={file.id}
                class="attachment-image"
                href={fileUrl(file.id)}
                target="_blank"
                rel="noopener"
                title={`${file.name} (${file.width} × ${file.height}, ${formatBytes(file.size)})`}
                onClick={(event) => {
                  // A plain click opens the viewer; with a modifier the browser opens a tab as usual.
                  if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
                  event.preventDefault();
                  setViewing(file);
                }}
              >
                <img
                  src={thumbnailUrl(file.id)}
                  width={box.width}
                  height={box.height}
                  // The file's own ratio, kept after load too (the thumbnail's may differ by rounding).
                  style={{ aspectRatio: `${file.width} / ${file.height}` }}
                  alt={file.name}
                  loading="lazy"
                  decoding="async"
                  data-testid="attachment-thumbnail"
                />
              </a>
            );
          })}
        </div>
      )}
      {others.map((file) => (
        <FileCard key={file.id} file={file} />
      ))}
      {viewing && <ImageViewer file={viewing} onClose={() => setViewing(null)} />}
    </div>
  );
}

function FileCard({ file }: { file: FileInfo }) {
  return (
    <div class="attachment-file border rounded" data-testid="attachment-file">
      <Icon name={fileIcon(file)} class="attachment-icon text-body-secondary" />
      <div class="min-width-0 flex-grow-1">
        <div class="attachment-name text-truncate" title={file.name} data-testid="attachment-name">
          {file.name}
        </div>
        <div class="small text-body-secondary">{formatBytes(file.size)}</div>
      </div>
      <a class="btn btn-sm btn-outline-secondary" href={fileUrl(file.id)} download={file.name} data-testid="attachment-download" title={`Download ${file.name}`}>
        <Icon name="download" />
        <span class="visually-hidden">Download {file.name}</span>
      </a>
    </div>
  );
}

function ImageViewer({ file, onClose }: { file: FileInfo & { width?: number; height?: number }; onClose: () => void }) {
  return (
    <Dialog title={file.name} onClose={onClose} wide>
      <div class="modal-body text-center p-2">
        <img class="attachment-full" src={fileUrl(file.id)} width={file.width} height={file.height} alt={file.name} data-testid="attachment-full" />
      </div>
      <div class="modal-footer justify-content-between">
        <span class="small text-body-secondary">
          {file.width} × {file.height} · {formatBytes(file.size)}
        </span>
        <a class="btn btn-outline-secondary btn-sm" href={fileUrl(file.id)} download={file.name}>
          <Icon name="download" /> Download
        </a>
      </div>
    </Dialog>
  );
}
