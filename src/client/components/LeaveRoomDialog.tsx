import { useState } from 'preact/hooks';
import type { Room } from '../../shared/protocol.js';
import { ApiError } from '../core/api.js';
import type { ChatStore } from '../core/chat-store.js';
import { Dialog } from './Dialog.js';
import { FormAlert } from './form-errors.js';

interface LeaveRoomDialogProps {
  chat: ChatStore;
  room: Room;
  onLeft: () => void;
  onClose: () => void;
}

export function LeaveRoomDialog({ chat, room, onLeft, onClose }: LeaveRoomDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function leave() {
    setBusy(true);
    try {
      await chat.leaveRoom(room.id);
      onLeft();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'Could not leave the room. Try again.');
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Leave ${room.name}?`} onClose={onClose}>
      <div class="modal-body">
        <FormAlert message={error} />
        <p class="mb-0">
          {room.isPrivate
            ? 'This room is private: you will need a new invitation to come back.'
            : 'You can join again from the room directory.'}
        </p>
      </div>
      <div class="modal-footer">
        <button type="button" class="btn btn-outline-secondary" onClick={onClose} data-autofocus>
          Stay
        </button>
        <button type="button" class="btn btn-danger" onClick={leave} disabled={busy}>
          Leave room
        </button>
      </div>
    </Dialog>
  );
}
