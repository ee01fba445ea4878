/*
 * cmd_config: the commands about the configuration, check (the site and rules files
 * and the flows they expect) and site (a site file made from ONTAP output or guessed
 * from traffic).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "smaudit/policy.h"
#include "smaudit/rules.h"
#include "smaudit/site.h"
#include "smaudit/sitegen.h"

int
cmd_check(struct cli_args *a)
{
	int rc;
	struct sm_site site;
	struct sm_rules rules;
	if ((rc = cli_load_config(a, &site, &rules)) >= 0)
		return rc;
	struct sm_policy *p = sm_policy_new(&rules, &site);
	if (p == NULL) {
		fputs("smaudit: out of memory\n", stderr);
		rc = SM_EXIT_RUNTIME;
		goto out;
	}
	sm_policy_finish(p);
	printf("site %s: %zu roles; rules %s: %zu directional rules; monitored:", site.path,
	       site.nroles, rules.name, rules.nrules);
	for (size_t i = 0; i < rules.nmonitor; i++)
		printf(" %s", rules.monitor[i]);
	printf("\n\n%-9s %-10s %-36s %-36s %s\n", "KIND", "FLOW", "INITIATOR", "RESPONDER",
	       "PURPOSE / RULE");
	size_t n = sm_policy_entry_count(p), na = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sm_expect_entry *e = sm_policy_entry(p, i);
		char flow[24], s[128], d[128], sa[64], da[64];
		sm_rule_flow(e->rule, flow, sizeof(flow));
		sm_entry_src(e, sa, sizeof(sa));
		sm_entry_dst(e, da, sizeof(da));
		snprintf(s, sizeof(s), "%s %s", e->rule->src_role, sa[0] ? sa : "(any)");
		snprintf(d, sizeof(d), "%s %s", e->rule->dst_role, da[0] ? da : "(any)");
		if (e->verdict == V_NA) {
			na++;
			printf("%-9s %-10s %-36s %-36s n/a: %s\n", sm_rule_kind_name(e->rule->kind),
			       flow, e->rule->src_role, e->rule->dst_role, e->detail);
			continue;
		}
		printf("%-9s %-10s %-36s %-36s %s [%s]\n", sm_rule_kind_name(e->rule->kind), flow,
		       s, d, e->rule->purpose, e->rule->id);
	}
	printf("\n%zu flows to verify, %zu not applicable to this site\n", n - na, na);
	sm_policy_free(p);
	rc = SM_EXIT_CLEAN;
out:
	sm_rules_free(&rules);
	sm_site_free(&site);
	return rc;
}

int
cmd_site(struct cli_args *a)
{
	if (a->from_ontap == a->guess || a->noperands == 0)
		return cli_usage_error(a->cmd, "%s",
		                       "site: smaudit site --from-ontap FILE... or smaudit site "
		                       "--guess CAPTURE... [-o SITE]");
	const char *const *in = (const char *const *)a->operands;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (mem == NULL)
		return cli_fail(SM_ERR_NOMEM, &(struct sm_errbuf){""});
	struct sm_errbuf eb = {""};
	enum sm_err e =
	    a->guess ? sm_site_guess(in, a->noperands, mem, cli_print_warning, NULL, &eb)
	             : sm_site_from_ontap(in, a->noperands, mem, cli_print_warning, NULL, &eb);
	fclose(mem);
	struct sm_site site;
	/* what we propose must be a valid site file */
	if (e == SM_OK && sm_site_parse(text, "generated site", &site, NULL, NULL, &eb) == SM_OK)
		sm_site_free(&site);
	else if (e == SM_OK)
		e = SM_ERR_INTERNAL;
	int rc = e == SM_OK ? -1 : cli_fail(e, &eb);
	struct cli_out out;
	if (rc < 0 && (rc = cli_out_open(a, &out, "cannot write")) < 0) {
		fputs(text, out.f);
		rc = cli_out_finish(a, &out, SM_OK, &eb);
	}
	free(text);
	return rc < 0 ? SM_EXIT_CLEAN : rc;
}
