/**
 * Invite links for a private room (owner and moderators): make one with an expiry and a
 * use limit and copy it; see the room's links that still work, with their uses and
 * expiry, and revoke any of them.
 */
import { useEffect, useId, useState } from 'preact/hooks';
import type { Invite, Room, RoomInvite } from '../../shared/protocol.js';
import * as api from '../core/api.js';
import { ApiError } from '../core/api.js';
import { formatDate } from '../format.js';
import { INVITE_HOURS_DEFAULT, INVITE_USES_MAX } from '../limits.js';
import { Dialog } from './Dialog.js';
import { FormAlert } from './form-errors.js';
import { Icon } from './Icon.js';
import { InviteList } from './InviteList.js';

/** The lifetimes offered, in hours (the server allows up to LIMITS.inviteHoursMax); the default is one of them. */
const EXPIRY_CHOICES = [
  { hours: 1, label: '1 hour' },
  { hours: 24, label: '1 day' },
  { hours: 7 * 24, label: '7 days' },
  { hours: 30 * 24, label: '30 days' },
  { hours: 90 * 24, label: '90 days' },
] as const;

const messageOf = (failure: unknown) => (failure instanceof ApiError ? failure.message : String(failure));

export function InviteDialog({ room, onClose }: { room: Room; onClose: () => void }) {
  const [invite, setInvite] = useState<Invite | null>(null);
  const [invites, setInvites] = useState<RoomInvite[] | null>(null);
  const [expiresInHours, setExpiresInHours] = useState<number>(INVITE_HOURS_DEFAULT);
  const [maxUses, setMaxUses] = useState('');
  const [usesError, setUsesError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [revoking, setRevoking] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const id = useId();

  async function refresh() {
    try {
      setInvites((await api.listInvites(room.id)).invites);
    } catch (failure) {
      setError(messageOf(failure));
    }
  }

  useEffect(() => {
    void refresh();
  }, [room.id]);

  // The new link takes the focus (selected, ready to copy): the disabled button had it.
  useEffect(() => {
    if (invite) document.getElementById(id)?.focus();
  }, [invite?.id]);

  async function create(event: Event) {
    event.preventDefault();
    const uses = maxUses.trim() === '' ? undefined : Number(maxUses);
    if (uses !== undefined && (!Number.isInteger(uses) || uses < 1 || uses > INVITE_USES_MAX)) {
      setUsesError(`A whole number from 1 to ${INVITE_USES_MAX}, or empty for no limit.`);
      return;
    }
    setUsesError(null);
    setError(null);
    setBusy(true);
    try {
      setInvite(await api.createInvite(room.id, { expiresInHours, ...(uses === undefined ? {} : { maxUses: uses }) }));
      setCopied(false);
      await refresh();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  }

  async function revoke(target: RoomInvite) {
    setError(null);
    setRevoking(target.id);
    try {
      await api.revokeInvite(room.id, target.id);
      if (invite?.id === target.id) setInvite(null);
      await refresh();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setRevoking(null);
    }
  }

  const link = invite ? new URL(invite.url, window.location.origin).href : '';

  async function copy() {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
    } catch {
      // No clipboard access (plain HTTP, or denied): select the text for a manual copy.
      const input = document.getElementById(id) as HTMLInputElement | null;
      input?.select();
      setError('Copying is not available here; the link is selected, press Ctrl+C (or ⌘C) to copy it.');
    }
  }

  return (
    <Dialog title={`Invite people to ${room.name}`} onClose={onClose}>
      <div class="modal-body">
        <FormAlert message={error} />
        <form class="row g-2 align-items-end mb-3" onSubmit={create} noValidate aria-label="New invite link">
          <div class="col-sm-4">
            <label class="form-label" for={`${id}-expiry`}>
              Expires after
            </label>
            <select
              id={`${id}-expiry`}
              name="expiresInHours"
              class="form-select"
              value={String(expiresInHours)}
              onChange={(event) => setExpiresInHours(Number(event.currentTarget.value))}
            >
              {EXPIRY_CHOICES.map((choice) => (
                <option key={choice.hours} value={String(choice.hours)}>
                  {choice.label}
                </option>
              ))}
            </select>
          </div>
          <div class="col-sm-4">
            <label class="form-label" for={`${id}-uses`}>
              Use limit
            </label>
            <input
              id={`${id}-uses`}
              name="maxUses"
              type="number"
              inputMode="numeric"
              min={1}
              max={INVITE_USES_MAX}
              class={`form-control${usesError ? ' is-invalid' : ''}`}
              placeholder="No limit"
              value={maxUses}
              onInput={(event) => setMaxUses(event.currentTarget.value)}
              aria-invalid={usesError ? true : undefined}
              aria-describedby={usesError ? `${id}-uses-error` : undefined}
            />
          </div>
          <div class="col-sm-4">
            <button type="submit" class="btn btn-primary w-100 text-nowrap" disabled={busy} data-autofocus>
              {busy ? 'Creating…' : 'Create link'}
            </button>
          </div>
          {usesError && (
            <div id={`${id}-uses-error`} class="invalid-feedback d-block">
              {usesError}
            </div>
          )}
        </form>
        {invite && (
          <div class="mb-3">
            <label class="form-label" for={id}>
              New invite link
            </label>
            <div class="input-group">
              <input
                id={id}
                class="form-control"
                readOnly
                value={link}
                data-testid="invite-link"
                onFocus={(event) => event.currentTarget.select()}
              />
              <button type="button" class="btn btn-outline-primary" onClick={copy}>
                <Icon name={copied ? 'check' : 'copy'} /> {copied ? 'Copied' : 'Copy'}
              </button>
            </div>
            <p class="form-text" role="status">
              {copied ? 'Link copied. ' : ''}
              {invite.expiresAt ? `Valid until ${formatDate(invite.expiresAt)}` : 'Does not expire'}
              {invite.maxUses ? `, for ${invite.maxUses} uses.` : '.'}
            </p>
          </div>
        )}
        <h2 class="h6">Active links</h2>
        <InviteList invites={invites} newId={invite?.id ?? null} revoking={revoking} onRevoke={revoke} />
      </div>
      <div class="modal-footer">
        <button type="button" class="btn btn-outline-secondary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
