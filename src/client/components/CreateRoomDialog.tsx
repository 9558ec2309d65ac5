import { useState } from 'preact/hooks';
import type { Room } from '../../shared/protocol.js';
import type { ChatStore } from '../core/chat-store.js';
import { ROOM_DESCRIPTION_MAX, ROOM_NAME_MAX } from '../limits.js';
import { Dialog } from './Dialog.js';
import { CheckboxField, FormField } from './FormField.js';
import { FormAlert, useFormErrors } from './form-errors.js';
import { normaliseName, roomNameProblem } from '../../shared/names.js';

interface CreateRoomDialogProps {
  chat: ChatStore;
  onCreated: (room: Room) => void;
  onClose: () => void;
}

export function CreateRoomDialog({ chat, onCreated, onClose }: CreateRoomDialogProps) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [isPrivate, setIsPrivate] = useState(false);
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(['name', 'description', 'isPrivate']);

  async function submit(event: Event) {
    event.preventDefault();
    if (!name.trim()) return errors.reject({ name: 'Give the room a name.' });
    const nameInvalid = roomNameProblem(normaliseName(name));
    if (nameInvalid) return errors.reject({ name: nameInvalid });
    errors.clear();
    setBusy(true);
    try {
      onCreated(await chat.membership.create({ name: name.trim(), description: description.trim(), isPrivate }));
    } catch (error) {
      errors.show(error);
      setBusy(false);
    }
  }

  return (
    <Dialog title="Create a room" onClose={onClose}>
      <form ref={errors.form} onSubmit={submit} noValidate>
        <div class="modal-body">
          <FormAlert message={errors.formError} />
          <FormField
            label="Name"
            name="name"
            value={name}
            onInput={setName}
            error={errors.fieldErrors.name}
            maxLength={ROOM_NAME_MAX}
            help="3–64 characters, unique."
            autoFocus
          />
          <FormField
            label="Description (optional)"
            name="description"
            value={description}
            onInput={setDescription}
            error={errors.fieldErrors.description}
            maxLength={ROOM_DESCRIPTION_MAX}
            multiline
          />
          <CheckboxField
            label="Private room"
            name="isPrivate"
            checked={isPrivate}
            onChange={setIsPrivate}
            help="Private rooms are hidden from the directory; people join by invitation only."
            switch
          />
        </div>
        <div class="modal-footer">
          <button type="button" class="btn btn-outline-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Create room
          </button>
        </div>
      </form>
    </Dialog>
  );
}
