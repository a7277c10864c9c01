/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The source identity `blob pack` writes into a blob header, parsed from the command line without I/O. */
#ifndef VFIOMIG_IDENT_H
#define VFIOMIG_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "blob.h"

/*
 * Each parser returns 0, or -EINVAL with a reason in WHY (WHYLEN bytes)
 * that completes "invalid --OPTION 'ARG': ".
 */

/*
 * "VENDOR:DEVICE" or "VENDOR:DEVICE:SUBVENDOR:SUBDEVICE", each one to four
 * hex digits as lspci -n prints them ("15b3:101e"). The subsystem IDs are
 * left alone when not given.
 */
int ident_parse_ids(const char *s, struct blob_header *h, char *why, size_t whylen);
/* A 24-bit PCI class in hex, with or without 0x: "020000". */
int ident_parse_class(const char *s, uint32_t *class_code, char *why, size_t whylen);
/*
 * Migration flags by name, comma-separated ("stop-copy,p2p,pre-copy", the
 * form blob inspect prints), "none", or a number (decimal or 0x hex).
 * Names need stop-copy: the uAPI has no migration without it.
 */
int ident_parse_mig_flags(const char *s, uint64_t *flags, char *why, size_t whylen);
/*
 * S into a header string field of SIZE bytes (NUL included): refused when
 * it does not fit, or holds a control character.
 */
int ident_parse_str(const char *s, char *field, size_t size, char *why, size_t whylen);

#endif
