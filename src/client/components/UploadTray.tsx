/** Above the message box: the files going with the next message, each with its progress, cancel, retry and remove. */
import { fileIcon, formatBytes } from '../attachments.js';
import { progressPercent, type TrayItem } from '../core/upload-tray.js';
import { Icon } from './Icon.js';
import type { Uploads } from './use-uploads.js';

export function UploadTray({ uploads }: { uploads: Uploads }) {
  if (uploads.items.length === 0 && !uploads.notice) return null;
  return (
    <div class="upload-tray mb-2" data-testid="upload-tray">
      {uploads.notice && (
        <div class="small text-warning-emphasis mb-1" role="status">
          {uploads.notice}
        </div>
      )}
      <ul class="list-unstyled mb-0 d-flex flex-column gap-1">
        {uploads.items.map((item) => (
          <TrayRow key={item.key} item={item} uploads={uploads} />
        ))}
      </ul>
    </div>
  );
}

function TrayRow({ item, uploads }: { item: TrayItem; uploads: Uploads }) {
  const percent = progressPercent(item);
  const failed = item.status === 'failed';
  return (
    <li class={`upload-item border rounded px-2 py-1${failed ? ' border-danger' : ''}`} data-testid="upload-item" data-status={item.status}>
      <div class="d-flex align-items-center gap-2">
        <Icon name={fileIcon({ mime: item.file?.mime ?? item.localType, name: item.name })} class="text-body-secondary" />
        <span class="upload-name text-truncate" title={item.name}>
          {item.name}
        </span>
        <span class="small text-body-secondary text-nowrap">{formatBytes(item.size)}</span>
        {item.status === 'done' && <span class="small text-success text-nowrap">Ready</span>}
        {item.status === 'uploading' && <span class="small text-body-secondary text-nowrap">{percent}%</span>}
        <span class="ms-auto d-flex align-items-center gap-1">
          {failed && (
            <button type="button" class="btn btn-outline-danger btn-sm py-0" data-testid="upload-retry" onClick={() => uploads.retry(item.key)}>
              Retry
            </button>
          )}
          <button
            type="button"
            class="btn-close btn-sm"
            data-testid={item.status === 'uploading' ? 'upload-cancel' : 'upload-remove'}
            aria-label={`${item.status === 'uploading' ? 'Cancel the upload of' : 'Remove'} ${item.name}`}
            onClick={() => (item.status === 'uploading' ? uploads.cancel(item.key) : uploads.remove(item.key))}
          />
        </span>
      </div>
      {item.status === 'uploading' && (
        <div class="progress upload-progress mt-1" role="progressbar" aria-label={`Uploading ${item.name}`} aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100}>
          <div class="progress-bar" style={{ width: `${percent}%` }} />
        </div>
      )}
      {failed && (
        <div class="small text-danger-emphasis" role="alert" data-testid="upload-error">
          {item.error}
        </div>
      )}
      {item.localType.startsWith('image/') && item.status !== 'failed' && (
        <label class="form-check small mb-0 mt-1">
          <input
            type="checkbox"
            class="form-check-input"
            checked={item.keepMetadata}
            onChange={(event) => uploads.setKeepMetadata(item.key, event.currentTarget.checked)}
          />
          <span class="form-check-label text-body-secondary">Keep photo metadata (location, camera)</span>
        </label>
      )}
    </li>
  );
}
