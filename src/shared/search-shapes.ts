/** Search: a result on the wire and the page of them (the query language is in search-words.ts). */
import { Type, type Static } from 'typebox';
import { RoomKindSchema, MessageSchema } from './protocol.js';

export const SEARCH_LIMITS = { pageDefault: 20, pageMax: 100 } as const;

export const SearchResultSchema = Type.Object({
  message: MessageSchema,
  room: Type.Object({
    id: Type.String(),
    name: Type.String({ description: "A DM's name is the other members' usernames, as in the room list." }),
    kind: RoomKindSchema,
  }),
});
export type SearchResult = Static<typeof SearchResultSchema>;

export const SearchPageSchema = Type.Object({
  results: Type.Array(SearchResultSchema, { description: 'Newest first.' }),
  nextCursor: Type.Optional(Type.String({ description: 'Pass as `before` for the next (older) page; absent on the last page.' })),
});
export type SearchPage = Static<typeof SearchPageSchema>;
