/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "harness.h"
#include "subscriber.h"

#define SEC 1000000000LL

static struct cl_binding
radius(enum cl_bind_op op, const char *user, const char *addr)
{
	struct cl_binding b;
	unsigned plen;

	memset(&b, 0, sizeof(b));
	b.op = op;
	b.src = CL_SRC_RADIUS;
	b.username.p = (const uint8_t *)user;
	b.username.len = strlen(user);
	if (addr != NULL) {
		if (cl_parse_prefix(addr, &b.addrs[0].addr, &plen) != 0)
			cl_test_fail(__FILE__, __LINE__, "bad %s", addr);
		b.addrs[0].plen = (uint8_t)plen;
		b.naddrs = 1;
	}
	return b;
}

static const char *
user_of(struct cl_subs *s, const char *addr, int64_t now)
{
	static char buf[256];
	struct cl_session *se;
	struct cl_addr a;
	const uint8_t *id;
	size_t len;

	if (cl_parse_addr(addr, &a) != 0)
		return "bad address";
	if ((se = cl_subs_lookup(s, &a, now)) == NULL)
		return NULL;
	if (!cl_session_id(se, CL_ID_USER, &id, &len))
		return "(no user)";
	snprintf(buf, sizeof(buf), "%.*s", (int)len, (const char *)id);
	return buf;
}

CL_TEST(start_update_stop)
{
	struct cl_subs *s = cl_subs_new(100);
	struct cl_subs_result res;
	struct cl_binding b;
	uint64_t cid;

	b = radius(CL_BIND_START, "alice", "10.0.0.3");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 1 * SEC, &res), 0);
	CHECK_INT_EQ(res.op, CL_BIND_START);
	cid = res.sess->cid;
	CHECK_STR_EQ(user_of(s, "10.0.0.3", 2 * SEC), "alice");
	CHECK(user_of(s, "10.0.0.4", 2 * SEC) == NULL);

	/* Accounting with the session id but no address joins the
	 * session. */
	b = radius(CL_BIND_UPDATE, "alice", NULL);
	b.acct_session_id.p = (const uint8_t *)"S1";
	b.acct_session_id.len = 2;
	CHECK_INT_EQ(cl_subs_apply(s, &b, 3 * SEC, &res), 0);
	CHECK_INT_EQ(res.op, CL_BIND_UPDATE);
	CHECK(res.sess->cid == cid);
	CHECK_STR_EQ(user_of(s, "10.0.0.3", 3 * SEC), "alice");
	{
		const uint8_t *id;
		size_t len;

		CHECK(cl_session_id(res.sess, CL_ID_ACCT_SESSION, &id, &len));
		CHECK_INT_EQ(len, 2);
	}

	b = radius(CL_BIND_STOP, "alice", NULL);
	CHECK_INT_EQ(cl_subs_apply(s, &b, 4 * SEC, &res), 0);
	CHECK_INT_EQ(res.op, CL_BIND_STOP);
	CHECK(res.sess->cid == cid); /* still readable until the next call */
	CHECK(user_of(s, "10.0.0.3", 5 * SEC) == NULL);
	CHECK_INT_EQ(cl_subs_count(s), 0);
	cl_subs_free(s);
}

CL_TEST(new_session_on_address_ends_old)
{
	struct cl_subs *s = cl_subs_new(100);
	struct cl_subs_result res;
	struct cl_subs_stats st;
	struct cl_binding b;

	b = radius(CL_BIND_START, "alice", "10.0.0.3");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 1 * SEC, &res), 0);
	b = radius(CL_BIND_START, "bob", "10.0.0.3");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 2 * SEC, &res), 0);
	CHECK_STR_EQ(user_of(s, "10.0.0.3", 2 * SEC), "bob");
	CHECK_INT_EQ(cl_subs_count(s), 1);
	cl_subs_stats(s, &st);
	CHECK_INT_EQ(st.replaced, 1);
	/* The same user on a new address is a new session. */
	b = radius(CL_BIND_START, "bob", "10.0.0.9");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 3 * SEC, &res), 0);
	CHECK(user_of(s, "10.0.0.3", 3 * SEC) == NULL);
	CHECK_STR_EQ(user_of(s, "10.0.0.9", 3 * SEC), "bob");
	cl_subs_free(s);
}

CL_TEST(prefix_sessions_and_expiry)
{
	struct cl_subs *s = cl_subs_new(100);
	struct cl_subs_result res;
	struct cl_binding b;
	struct cl_addr a;
	uint8_t duid[] = {0, 3, 0, 1, 0, 1, 2, 3, 4, 5};
	unsigned plen;

	memset(&b, 0, sizeof(b));
	b.op = CL_BIND_START;
	b.src = CL_SRC_DHCP6;
	b.duid.p = duid;
	b.duid.len = sizeof(duid);
	CHECK_INT_EQ(
	    cl_parse_prefix("2a00:1:1:100::/56", &b.addrs[0].addr, &plen), 0);
	b.addrs[0].plen = (uint8_t)plen;
	b.naddrs = 1;
	b.lifetime = 60;
	CHECK_INT_EQ(cl_subs_apply(s, &b, 100 * SEC, &res), 0);
	CHECK_INT_EQ(cl_parse_addr("2a00:1:1:1ab::7", &a), 0);
	CHECK(cl_subs_lookup(s, &a, 150 * SEC) != NULL);
	CHECK_INT_EQ(cl_parse_addr("2a00:1:1:200::7", &a), 0);
	CHECK(cl_subs_lookup(s, &a, 150 * SEC) == NULL);
	/* Lease over: gone, and counted as expired. */
	CHECK_INT_EQ(cl_parse_addr("2a00:1:1:1ab::7", &a), 0);
	CHECK(cl_subs_lookup(s, &a, 161 * SEC) == NULL);
	CHECK_INT_EQ(cl_subs_count(s), 0);
	cl_subs_free(s);
}

static int nexpired;

static void
count_expired(void *arg, struct cl_session *se)
{
	(void)arg;
	(void)se;
	nexpired++;
}

CL_TEST(sweep_expires_in_budget)
{
	struct cl_subs *s = cl_subs_new(1000);
	struct cl_subs_result res;
	struct cl_binding b;
	char user[32], addr[32];
	int i;

	for (i = 0; i < 500; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 256, i % 256);
		b = radius(CL_BIND_START, user, addr);
		b.lifetime = i < 250 ? 10 : 1000;
		CHECK_INT_EQ(cl_subs_apply(s, &b, 0, &res), 0);
	}
	CHECK_INT_EQ(cl_subs_count(s), 500);
	nexpired = 0;
	for (i = 0; i < 100; i++)
		cl_subs_expire(s, 20 * SEC, 64, count_expired, NULL);
	CHECK_INT_EQ(nexpired, 250);
	CHECK_INT_EQ(cl_subs_count(s), 250);
	CHECK(user_of(s, "10.1.0.1", 20 * SEC) == NULL);
	CHECK_STR_EQ(user_of(s, "10.1.1.0", 20 * SEC), "u256");
	cl_subs_free(s);
}

CL_TEST(bounded_table)
{
	struct cl_subs *s = cl_subs_new(2);
	struct cl_subs_result res;
	struct cl_subs_stats st;
	struct cl_binding b;

	b = radius(CL_BIND_START, "a", "10.0.0.1");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 0, &res), 0);
	b = radius(CL_BIND_START, "b", "10.0.0.2");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 0, &res), 0);
	b = radius(CL_BIND_START, "c", "10.0.0.3");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 0, &res), CL_ERR_FULL);
	cl_subs_stats(s, &st);
	CHECK_INT_EQ(st.refused_full, 1);
	/* Binding data without any identity binds nothing. */
	memset(&b, 0, sizeof(b));
	b.op = CL_BIND_START;
	b.src = CL_SRC_DHCP;
	CHECK_INT_EQ(cl_subs_apply(s, &b, 0, &res), 0);
	CHECK_INT_EQ(res.op, CL_BIND_NONE);
	cl_subs_free(s);
}

/* One million sessions must fit comfortably: measure what they take. */
CL_TEST(million_sessions)
{
	struct cl_subs *s = cl_subs_new(1000000);
	struct cl_subs_result res;
	struct cl_binding b;
	char user[32], addr[32];
	int i;

	for (i = 0; i < 1000000; i++) {
		snprintf(user, sizeof(user), "user%07d@isp.example", i);
		snprintf(addr, sizeof(addr), "100.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		b = radius(CL_BIND_START, user, addr);
		if (cl_subs_apply(s, &b, 0, &res) != 0)
			cl_test_fail(__FILE__, __LINE__, "apply %d", i);
	}
	CHECK_INT_EQ(cl_subs_count(s), 1000000);
	printf("     1000000 sessions: about %zu bytes each\n",
	    cl_subs_bytes_per_session(s));
	CHECK(cl_subs_bytes_per_session(s) < 512);
	CHECK_STR_EQ(user_of(s, "100.15.66.63", 0), "user0999999@isp.example");
	cl_subs_free(s);
}

static void
set_span(struct cl_span *sp, const char *v)
{
	sp->p = (const uint8_t *)v;
	sp->len = strlen(v);
}

/* NAS-Port as it comes in the attribute: four octets. */
static void
set_port(struct cl_binding *b, uint8_t port)
{
	static uint8_t ports[256][4];

	ports[port][3] = port;
	b->nas_port.p = ports[port];
	b->nas_port.len = 4;
}

/*
 * 802.1X: Access-Accept without an address, then Accounting-Start with
 * the address and an Acct-Session-Id, then Stop: one session, one
 * correlation ID, from start to stop.  The next Start is a new one.
 */
CL_TEST(radius_session_one_correlation_id)
{
	struct cl_subs *s = cl_subs_new(100);
	struct cl_subs_result res;
	struct cl_binding b;
	uint64_t cid;

	b = radius(CL_BIND_START, "alice", NULL);
	CHECK_INT_EQ(cl_subs_apply(s, &b, 1 * SEC, &res), 0);
	CHECK_INT_EQ(res.op, CL_BIND_START);
	cid = res.sess->cid;

	b = radius(CL_BIND_START, "alice", "10.0.0.9");
	set_span(&b.acct_session_id, "451859ED-00000005");
	set_span(&b.nas, "\x0a\x01\x0c\x14");
	set_port(&b, 7);
	CHECK_INT_EQ(cl_subs_apply(s, &b, 2 * SEC, &res), 0);
	CHECK_INT_EQ(res.op, CL_BIND_UPDATE);
	CHECK(res.sess->cid == cid);
	CHECK_STR_EQ(user_of(s, "10.0.0.9", 2 * SEC), "alice");
	CHECK_INT_EQ(cl_subs_count(s), 1);

	/* Interim and Stop name the session by its Acct-Session-Id. */
	b = radius(CL_BIND_UPDATE, "alice", NULL);
	set_span(&b.acct_session_id, "451859ED-00000005");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 3 * SEC, &res), 0);
	CHECK(res.op == CL_BIND_UPDATE && res.sess->cid == cid);
	b = radius(CL_BIND_STOP, "alice", NULL);
	set_span(&b.acct_session_id, "451859ED-00000005");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 4 * SEC, &res), 0);
	CHECK(res.op == CL_BIND_STOP && res.sess->cid == cid);
	CHECK_INT_EQ(cl_subs_count(s), 0);

	b = radius(CL_BIND_START, "alice", NULL);
	set_span(&b.acct_session_id, "451859ED-00000006");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 5 * SEC, &res), 0);
	CHECK(res.op == CL_BIND_START && res.sess->cid != cid);
	cid = res.sess->cid;

	/* A second session of the same user (another Acct-Session-Id) is
	 * another correlation; stopping one leaves the other. */
	b = radius(CL_BIND_START, "alice", "10.0.0.10");
	set_span(&b.acct_session_id, "451859ED-00000007");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 6 * SEC, &res), 0);
	CHECK(res.op == CL_BIND_START && res.sess->cid != cid);
	CHECK_INT_EQ(cl_subs_count(s), 2);
	b = radius(CL_BIND_STOP, "alice", NULL);
	set_span(&b.acct_session_id, "451859ED-00000006");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 7 * SEC, &res), 0);
	CHECK(res.op == CL_BIND_STOP && res.sess->cid == cid);
	CHECK_STR_EQ(user_of(s, "10.0.0.10", 7 * SEC), "alice");
	cl_subs_free(s);
}

/* An Access-Accept for a second, concurrent session of a user (another
 * address, no Acct-Session-Id) does not take over the first one. */
CL_TEST(radius_second_login_is_another_session)
{
	struct cl_subs *s = cl_subs_new(100);
	struct cl_subs_result res;
	struct cl_binding b;
	uint64_t cid;

	b = radius(CL_BIND_START, "carol", "10.0.2.1");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 1 * SEC, &res), 0);
	cid = res.sess->cid;
	b = radius(CL_BIND_START, "carol", "10.0.2.1");
	set_span(&b.acct_session_id, "S-1");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 2 * SEC, &res), 0);
	CHECK(res.op == CL_BIND_UPDATE && res.sess->cid == cid);
	b = radius(CL_BIND_START, "carol", "10.0.2.2");
	CHECK_INT_EQ(cl_subs_apply(s, &b, 3 * SEC, &res), 0);
	CHECK(res.op == CL_BIND_START && res.sess->cid != cid);
	CHECK_INT_EQ(cl_subs_count(s), 2);
	CHECK_STR_EQ(user_of(s, "10.0.2.1", 3 * SEC), "carol");
	CHECK_STR_EQ(user_of(s, "10.0.2.2", 3 * SEC), "carol");
	cl_subs_free(s);
}

/* Without Acct-Session-Id: user + NAS + NAS-Port name the session. */
CL_TEST(radius_session_by_nas_port)
{
	struct cl_subs *s = cl_subs_new(100);
	struct cl_subs_result res;
	struct cl_binding b;
	uint64_t cid1;

	b = radius(CL_BIND_START, "bob", "10.0.1.1");
	set_span(&b.nas, "nas-1");
	set_port(&b, 1);
	CHECK_INT_EQ(cl_subs_apply(s, &b, 1 * SEC, &res), 0);
	CHECK_INT_EQ(res.op, CL_BIND_START);
	cid1 = res.sess->cid;
	b = radius(CL_BIND_START, "bob", "10.0.1.2");
	set_span(&b.nas, "nas-1");
	set_port(&b, 2);
	CHECK_INT_EQ(cl_subs_apply(s, &b, 2 * SEC, &res), 0);
	CHECK(res.op == CL_BIND_START && res.sess->cid != cid1);
	CHECK_INT_EQ(cl_subs_count(s), 2);
	b = radius(CL_BIND_STOP, "bob", NULL);
	set_span(&b.nas, "nas-1");
	set_port(&b, 1);
	CHECK_INT_EQ(cl_subs_apply(s, &b, 3 * SEC, &res), 0);
	CHECK(res.op == CL_BIND_STOP && res.sess->cid == cid1);
	CHECK(user_of(s, "10.0.1.1", 3 * SEC) == NULL);
	CHECK_STR_EQ(user_of(s, "10.0.1.2", 3 * SEC), "bob");
	cl_subs_free(s);
}

int
main(void)
{
	CL_RUN(start_update_stop);
	CL_RUN(radius_session_one_correlation_id);
	CL_RUN(radius_session_by_nas_port);
	CL_RUN(radius_second_login_is_another_session);
	CL_RUN(new_session_on_address_ends_old);
	CL_RUN(prefix_sessions_and_expiry);
	CL_RUN(sweep_expires_in_budget);
	CL_RUN(bounded_table);
	CL_RUN(million_sessions);
	return cl_test_done();
}
