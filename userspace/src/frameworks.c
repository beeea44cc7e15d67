// SPDX-License-Identifier: Apache-2.0
/* Alert kind -> framework entries. Titles are the published ones: OWASP Top 10 for Agentic
 * Applications 2026 (OWASP GenAI Security Project, Agentic Security Initiative, December 2025)
 * and the CSA MAESTRO agentic threat-modelling framework (Cloud Security Alliance, 2025).
 * The mapping is sprawlwatch's reading of which risk an alert is evidence of; it is a table so
 * that it can be reviewed in one place. */
#include "frameworks.h"

#define OWASP	"owasp_asi_2026"
#define MAESTRO "csa_maestro"

static const struct sw_framework_ref asi02 = {OWASP, "ASI02", "Tool Misuse and Exploitation", NULL};
static const struct sw_framework_ref asi03 = {OWASP, "ASI03", "Identity and Privilege Abuse", NULL};
static const struct sw_framework_ref asi10 = {OWASP, "ASI10", "Rogue Agents", NULL};

static const struct sw_framework_ref m_l2_exfil = {MAESTRO, "L2", "Data Operations",
						   "Data Exfiltration"};
static const struct sw_framework_ref m_l5_evasion = {MAESTRO, "L5", "Evaluation and Observability",
						     "Evasion of Detection"};
static const struct sw_framework_ref m_l5_tools = {MAESTRO, "L5", "Evaluation and Observability",
						   "Compromised Observability Tools"};
static const struct sw_framework_ref m_l7_tool = {MAESTRO, "L7", "Agent Ecosystem",
						  "Agent Tool Misuse"};
static const struct sw_framework_ref m_x_leak = {MAESTRO, "cross_layer", "Cross-Layer",
						 "Data Leakage"};

static size_t add(const struct sw_framework_ref **out, size_t n, size_t max,
		  const struct sw_framework_ref *r)
{
	if (n < max)
		out[n] = r;
	return n + 1;
}

size_t sw_frameworks__for(enum sw_alert_kind kind, unsigned int art_type,
			  const struct sw_framework_ref **out, size_t max)
{
	size_t n = 0;

	switch (kind) {
	case SW_ALERT_SECRET_SPREAD:
		/* A credential copied to a new place is a credential beyond its intended scope. */
		n = add(out, n, max, &asi03);
		switch (art_type) {
		case SW_ART_SOCKET:
		case SW_ART_TLS:
			/* Sent off the host by a tool the agent ran (or the agent itself). */
			n = add(out, n, max, &asi02);
			n = add(out, n, max, &m_l2_exfil);
			break;
		case SW_ART_EXEC_ARG:
		case SW_ART_EXEC_ENV:
		case SW_ART_PIPE:
			/* Handed to a tool on its command line / environment, or piped from a tool
			 * into the agent's context. */
			n = add(out, n, max, &asi02);
			n = add(out, n, max, &m_l7_tool);
			break;
		default:
			break;
		}
		n = add(out, n, max, &m_x_leak);
		break;
	case SW_ALERT_SECRET_EXPOSURE:
		/* The agent tree read the file a credential lives in. */
		n = add(out, n, max, &asi03);
		n = add(out, n, max, &m_l7_tool);
		n = add(out, n, max, &m_x_leak);
		break;
	case SW_ALERT_SECRET_DISCOVERED:
	case SW_ALERT_RATE_LIMITED:
	case SW_ALERT_SESSION_SUMMARY:
		n = add(out, n, max, &asi03);
		n = add(out, n, max, &m_x_leak);
		break;
	case SW_ALERT_COVERAGE_GAP:
	case SW_ALERT_UNMONITORED_CHANNEL:
		/* Data moved where the monitor could not see it: loss or evasion of oversight. */
		n = add(out, n, max, &asi10);
		n = add(out, n, max, &m_l5_evasion);
		break;
	case SW_ALERT_STATE_WARNING:
		/* The monitor's own state was damaged or replaced. */
		n = add(out, n, max, &m_l5_tools);
		break;
	default:
		break;
	}
	return n < max ? n : max;
}
