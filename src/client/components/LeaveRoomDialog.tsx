import { useEffect, useState } from 'preact/hooks';
import type { Member, Room } from '../../shared/protocol.js';
import { ApiError, listMembers } from '../core/api.js';
import type { ChatStore } from '../core/chat-store.js';
import { Dialog } from './Dialog.js';
import { FormAlert } from './form-errors.js';

interface LeaveRoomDialogProps {
  chat: ChatStore;
  room: Room;
  onLeft: () => void;
  onClose: () => void;
}

/** Leaving; an owner with others in the room hands it over first ("Make … owner and leave") or deletes it. */
export function LeaveRoomDialog({ chat, room, onLeft, onClose }: LeaveRoomDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [others, setOthers] = useState<Member[] | null>(null);
  const [heir, setHeir] = useState('');
  const isOwner = room.role === 'owner';

  useEffect(() => {
    if (!isOwner) return;
    listMembers(room.id).then(
      (members) => {
        const rest = members.filter((m) => m.role !== 'owner');
        setOthers(rest);
        setHeir(rest.find((m) => m.role === 'moderator')?.user.id ?? rest[0]?.user.id ?? '');
      },
      () => setOthers([]),
    );
  }, [room.id, isOwner]);

  async function act(what: () => Promise<void>, fallback: string) {
    setBusy(true);
    setError(null);
    try {
      await what();
      onLeft();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : fallback);
      setBusy(false);
    }
  }

  const mustHandOver = isOwner && (others?.length ?? 0) > 0;
  const heirName = others?.find((m) => m.user.id === heir)?.user.username ?? '';
  return (
    <Dialog title={`Leave ${room.name}?`} onClose={onClose}>
      <div class="modal-body">
        <FormAlert message={error} />
        {mustHandOver ? (
          <>
            <p>You own this room. Make another member its owner before you leave, or delete the room for everyone.</p>
            <label class="form-label" for="leave-heir">
              New owner
            </label>
            <select id="leave-heir" class="form-select" value={heir} onChange={(e) => setHeir(e.currentTarget.value)}>
              {others!.map((m) => (
                <option key={m.user.id} value={m.user.id}>
                  {m.user.username}
                  {m.role === 'moderator' ? ' (moderator)' : ''}
                </option>
              ))}
            </select>
          </>
        ) : (
          <p class="mb-0">
            {isOwner
              ? 'You are the only member: leaving deletes the room and its messages.'
              : room.isPrivate
                ? 'This room is private: you will need a new invitation to come back.'
                : 'You can join again from the room directory.'}
          </p>
        )}
      </div>
      <div class="modal-footer">
        <button type="button" class="btn btn-outline-secondary" onClick={onClose} data-autofocus>
          Stay
        </button>
        {isOwner && (
          <button type="button" class="btn btn-outline-danger" disabled={busy || others === null} onClick={() => act(() => chat.membership.delete(room.id), 'Could not delete the room. Try again.')}>
            Delete the room
          </button>
        )}
        {mustHandOver ? (
          <button type="button" class="btn btn-danger" disabled={busy || !heir} onClick={() => act(() => chat.membership.handOverAndLeave(room.id, heir), 'Could not hand the room over. Try again.')}>
            Make {heirName} owner and leave
          </button>
        ) : (
          <button type="button" class="btn btn-danger" disabled={busy || (isOwner && others === null)} onClick={() => act(() => chat.membership.leave(room.id), 'Could not leave the room. Try again.')}>
            Leave room
          </button>
        )}
      </div>
    </Dialog>
  );
}
