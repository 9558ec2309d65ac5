/**
 * The protocol limits the client needs. Importing LIMITS as a value would pull the
 * TypeBox schema builders into the bundle, so the values are restated here and tied
 * to protocol.ts by their types: if a limit changes there, this file stops compiling.
 */
import type { LIMITS } from '../shared/protocol.js';

type Limits = typeof LIMITS;

export const PAGE_SIZE: Limits['pageDefault'] = 50;
export const PAGE_MAX: Limits['pageMax'] = 200;
export const ROOM_NAME_MAX: Limits['roomNameMax'] = 64;
export const ROOM_DESCRIPTION_MAX: Limits['roomDescriptionMax'] = 500;
export const INVITE_HOURS_DEFAULT: Limits['inviteHoursDefault'] = 168;
export const INVITE_HOURS_MAX: Limits['inviteHoursMax'] = 2160;
export const INVITE_USES_MAX: Limits['inviteUsesMax'] = 10_000;
