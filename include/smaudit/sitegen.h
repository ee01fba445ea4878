/*
 * sitegen: a first site file from what the admin already has.
 * From the text of ONTAP's `network interface show -fields
 * address,role,service-policy,vserver` (table, rows wrapped or not, or -instance),
 * its default view when the command line in the file names the role (`-role
 * intercluster`), and `snapmirror mediator show`; or guessed from traffic (who talks
 * 11104/11105/3260/31784 to whom).  The output is a site file (docs/site-file.md) with
 * comments saying where each line came from; it always parses (an address found for
 * a second role stays in the first and the other is a "# left out:" comment).  A LIF is never
 * classified by its name: what cannot be read is an error or a warning with its
 * FILE:LINE, never dropped silently.
 */
#ifndef SMAUDIT_SITEGEN_H
#define SMAUDIT_SITEGEN_H

#include <stddef.h>
#include <stdio.h>

#include "smaudit/err.h"

/* Reads the ONTAP outputs (one or several files, e.g. one per cluster); the first
 * cluster (admin vserver) seen becomes "a", the second "b".  SM_ERR_CONFIG (FILE:LINE)
 * for output it refuses (the default view without a role, a row cut short, an address
 * that is none); warns about lines it does not read and about a side without
 * intercluster LIFs, and still writes the site. */
enum sm_err sm_site_from_ontap(const char *const *files, size_t nfiles, FILE *out, sm_warn_fn warn,
                               void *warn_ctx, struct sm_errbuf *eb);
/* Reads the captures and proposes roles for review. */
enum sm_err sm_site_guess(const char *const *captures, size_t ncaptures, FILE *out, sm_warn_fn warn,
                          void *warn_ctx, struct sm_errbuf *eb);

#endif
