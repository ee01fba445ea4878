/* libFuzzer target: the rules and site parsers on any text, their check
 * against each other, and a policy made of what passes.
 * Input: rules text, a NUL byte, site text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smaudit/policy.h"
#include "smaudit/rules.h"
#include "smaudit/site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	size_t split = strlen(text);
	const char *site_text = split < size ? text + split + 1 : "";
	struct sm_errbuf eb = {""};
	struct sm_rules rules;
	struct sm_site site;
	bool r_ok = sm_rules_parse(text, "fuzz.rules", &rules, &eb) == SM_OK;
	bool s_ok = sm_site_parse(site_text, "fuzz.conf", &site, NULL, NULL, &eb) == SM_OK;
	if (r_ok && s_ok && sm_rules_check_site(&rules, &site, NULL, NULL, &eb) == SM_OK) {
		struct sm_policy *p = sm_policy_new(&rules, &site);
		if (p != NULL) {
			sm_policy_finish(p);
			sm_policy_free(p);
		}
	}
	if (r_ok)
		sm_rules_free(&rules);
	if (s_ok)
		sm_site_free(&site);
	free(text);
	return 0;
}
