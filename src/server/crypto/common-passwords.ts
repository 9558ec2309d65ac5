/**
 * The passwords seen most often in breach corpora: the 49,233 of zxcvbn's "passwords"
 * dictionary, as shipped by @zxcvbn-ts/language-common (MIT; the list zxcvbn built from
 * the Xato 10-million-password corpus, ordered by frequency, lower case). Registration and
 * password changes refuse them whatever their case.
 */
import { dictionary } from '@zxcvbn-ts/language-common';

/** The most common passwords, lower case, most frequent first. */
export const COMMON_PASSWORDS: readonly string[] = dictionary['passwords-common'];
