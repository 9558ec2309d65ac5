/**
 * Feather icons, imported one by one as static SVG so the bundle holds only those used.
 * This markup is package content, never user input: the one place HTML is injected.
 */
import archive from 'feather-icons/dist/icons/archive.svg?raw';
import arrowDown from 'feather-icons/dist/icons/arrow-down.svg?raw';
import arrowUp from 'feather-icons/dist/icons/arrow-up.svg?raw';
import check from 'feather-icons/dist/icons/check.svg?raw';
import copy from 'feather-icons/dist/icons/copy.svg?raw';
import download from 'feather-icons/dist/icons/download.svg?raw';
import file from 'feather-icons/dist/icons/file.svg?raw';
import fileText from 'feather-icons/dist/icons/file-text.svg?raw';
import film from 'feather-icons/dist/icons/film.svg?raw';
import hash from 'feather-icons/dist/icons/hash.svg?raw';
import image from 'feather-icons/dist/icons/image.svg?raw';
import lock from 'feather-icons/dist/icons/lock.svg?raw';
import logOut from 'feather-icons/dist/icons/log-out.svg?raw';
import menu from 'feather-icons/dist/icons/menu.svg?raw';
import messageSquare from 'feather-icons/dist/icons/message-square.svg?raw';
import moon from 'feather-icons/dist/icons/moon.svg?raw';
import moreVertical from 'feather-icons/dist/icons/more-vertical.svg?raw';
import music from 'feather-icons/dist/icons/music.svg?raw';
import paperclip from 'feather-icons/dist/icons/paperclip.svg?raw';
import plus from 'feather-icons/dist/icons/plus.svg?raw';
import search from 'feather-icons/dist/icons/search.svg?raw';
import send from 'feather-icons/dist/icons/send.svg?raw';
import settings from 'feather-icons/dist/icons/settings.svg?raw';
import shield from 'feather-icons/dist/icons/shield.svg?raw';
import sun from 'feather-icons/dist/icons/sun.svg?raw';
import user from 'feather-icons/dist/icons/user.svg?raw';
import userPlus from 'feather-icons/dist/icons/user-plus.svg?raw';
import users from 'feather-icons/dist/icons/users.svg?raw';
import x from 'feather-icons/dist/icons/x.svg?raw';
import zap from 'feather-icons/dist/icons/zap.svg?raw';

const ICONS = {
  archive,
  arrowDown,
  arrowUp,
  check,
  copy,
  download,
  file,
  fileText,
  film,
  hash,
  image,
  lock,
  logOut,
  menu,
  messageSquare,
  moon,
  moreVertical,
  music,
  paperclip,
  plus,
  search,
  send,
  settings,
  shield,
  sun,
  user,
  userPlus,
  users,
  x,
  zap,
};

export type IconName = keyof typeof ICONS;

/** A decorative icon; the control it sits in carries the accessible name. */
export function Icon({ name, class: className = '' }: { name: IconName; class?: string }) {
  return <span class={`icon ${className}`} aria-hidden="true" dangerouslySetInnerHTML={{ __html: ICONS[name] }} />;
}
