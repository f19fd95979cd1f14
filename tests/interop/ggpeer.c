/* ggpeer: a libgadu client driven line by line, for the interop tests.
 *
 * Usage: ggpeer PORT UIN PASSWORD sha1|gg32 [LOGIN_TIMEOUT_SECONDS]
 * Connects to 127.0.0.1:PORT speaking GG 8.0 (protocol 0x2e, no TLS, no hub lookup),
 * reads commands from stdin, one per line:
 *   notify UIN...        send the contact list (empty list: LIST_EMPTY)
 *   add UIN / remove UIN change one contact
 *   status STATUS DESCR  change status (number, 0x prefix allowed), description optional
 *   send UIN TEXT        send a chat message (UTF-8), prints {"type":"sent",...} with its seq
 *   ping                 send GG_PING
 *   logoff DESCR         NOT_AVAIL(_DESCR), then wait for the server to close
 *   quit                 exit at once (so does end of input)
 * and prints every libgadu event as one JSON object per line on stdout, flushed.
 * libgadu has no timeouts of its own in async mode, so this program counts them itself. */
#include <arpa/inet.h>
#include <errno.h>
#include <libgadu.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 8192
#define MAX_CONTACTS 1024

static struct gg_session *sess;

/* JSON output: one object per line; strings are libgadu's UTF-8 bytes with escapes. */
static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* emit("type", "key", 'u', value, "key", 's', "text", ..., NULL) prints one line. */
static void emit(const char *type, ...)
{
	va_list ap;
	const char *key;

	printf("{\"type\":\"%s\"", type);
	va_start(ap, type);
	while ((key = va_arg(ap, const char *)) != NULL) {
		int kind = va_arg(ap, int);
		printf(",\"%s\":", key);
		if (kind == 'u')
			printf("%lu", va_arg(ap, unsigned long));
		else if (kind == 'd')
			printf("%ld", va_arg(ap, long));
		else
			json_string(va_arg(ap, const char *));
	}
	va_end(ap);
	printf("}\n");
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Returns 1 when the session is over (the caller exits). */
static int handle_event(struct gg_event *e)
{
	struct gg_event_notify60 *n;

	switch (e->type) {
	case GG_EVENT_NONE:
		return 0;
	case GG_EVENT_CONN_SUCCESS:
		emit("conn_success", NULL);
		return 0;
	case GG_EVENT_CONN_FAILED:
		emit("conn_failed", "failure", 'u', (unsigned long)e->event.failure, NULL);
		return 1;
	case GG_EVENT_NOTIFY60:
		/* One line per contact; the array ends with uin 0. */
		for (n = e->event.notify60; n->uin; n++)
			emit("notify", "uin", 'u', (unsigned long)n->uin, "status", 'u',
			     (unsigned long)n->status, "descr", 's', n->descr ? n->descr : "", NULL);
		emit("notify_end", NULL);
		return 0;
	case GG_EVENT_STATUS60:
		emit("status", "uin", 'u', (unsigned long)e->event.status60.uin, "status", 'u',
		     (unsigned long)e->event.status60.status, "descr", 's',
		     e->event.status60.descr ? e->event.status60.descr : "", NULL);
		return 0;
	case GG_EVENT_MSG:
		emit("msg", "uin", 'u', (unsigned long)e->event.msg.sender, "class", 'u',
		     (unsigned long)e->event.msg.msgclass, "seq", 'u', (unsigned long)e->event.msg.seq,
		     "text", 's', (const char *)e->event.msg.message, "html", 's',
		     e->event.msg.xhtml_message ? e->event.msg.xhtml_message : "", NULL);
		return 0;
	case GG_EVENT_ACK:
		emit("ack", "uin", 'u', (unsigned long)e->event.ack.recipient, "status", 'u',
		     (unsigned long)e->event.ack.status, "seq", 'u', (unsigned long)(unsigned)e->event.ack.seq,
		     NULL);
		return 0;
	case GG_EVENT_PONG:
		emit("pong", NULL);
		return 0;
	case GG_EVENT_TYPING_NOTIFICATION:
		emit("typing", "uin", 'u', (unsigned long)e->event.typing_notification.uin, "length", 'd',
		     (long)e->event.typing_notification.length, NULL);
		return 0;
	case GG_EVENT_DISCONNECT:
		emit("disconnect", NULL);
		return 0;
	case GG_EVENT_DISCONNECT_ACK:
		emit("disconnect_ack", NULL);
		return 1;
	default:
		emit("other", "event", 'd', (long)e->type, NULL);
		return 0;
	}
}

static void parse_uins(char *args, uin_t *uins, char *types, int *count)
{
	char *tok, *save = NULL;

	*count = 0;
	for (tok = strtok_r(args, " ", &save); tok && *count < MAX_CONTACTS; tok = strtok_r(NULL, " ", &save)) {
		uins[*count] = (uin_t)strtoul(tok, NULL, 10);
		types[(*count)++] = GG_USER_NORMAL;
	}
}

/* Returns 1 to quit. A command before login or after logoff is reported, not sent. */
static int handle_command(char *line)
{
	static uin_t uins[MAX_CONTACTS];
	static char types[MAX_CONTACTS];
	char *args = strchr(line, ' ');
	int count, rc = 0;

	if (args)
		*args++ = '\0';
	else
		args = line + strlen(line);
	if (strcmp(line, "quit") == 0)
		return 1;
	if (sess->state != GG_STATE_CONNECTED) {
		emit("error", "command", 's', line, "reason", 's', "not connected", NULL);
		return 0;
	}
	if (strcmp(line, "notify") == 0) {
		parse_uins(args, uins, types, &count);
		rc = gg_notify_ex(sess, count ? uins : NULL, count ? types : NULL, count);
	} else if (strcmp(line, "add") == 0) {
		rc = gg_add_notify_ex(sess, (uin_t)strtoul(args, NULL, 10), GG_USER_NORMAL);
	} else if (strcmp(line, "remove") == 0) {
		rc = gg_remove_notify_ex(sess, (uin_t)strtoul(args, NULL, 10), GG_USER_NORMAL);
	} else if (strcmp(line, "status") == 0) {
		char *descr = strchr(args, ' ');
		int status = (int)strtoul(args, NULL, 0);
		if (descr)
			rc = gg_change_status_descr(sess, status, descr + 1);
		else
			rc = gg_change_status(sess, status);
	} else if (strcmp(line, "send") == 0) {
		char *text = strchr(args, ' ');
		uin_t to = (uin_t)strtoul(args, NULL, 10);
		rc = gg_send_message(sess, GG_CLASS_CHAT, to, (const unsigned char *)(text ? text + 1 : ""));
		if (rc != -1)
			emit("sent", "uin", 'u', (unsigned long)to, "seq", 'u', (unsigned long)(unsigned)rc, NULL);
	} else if (strcmp(line, "ping") == 0) {
		rc = gg_ping(sess);
	} else if (strcmp(line, "logoff") == 0) {
		/* libgadu then enters DISCONNECTING and waits for the server to close. */
		if (*args)
			rc = gg_change_status_descr(sess, GG_STATUS_NOT_AVAIL_DESCR, args);
		else
			rc = gg_change_status(sess, GG_STATUS_NOT_AVAIL);
	} else {
		emit("error", "command", 's', line, "reason", 's', "unknown command", NULL);
		return 0;
	}
	if (rc == -1)
		emit("error", "command", 's', line, "reason", 's', "libgadu refused", "errno", 'd', (long)errno, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	struct gg_login_params p;
	static char line[MAX_LINE];
	size_t used = 0;
	int done = 0, last_state = -1, limit;
	double state_since = now();

	if (argc < 5) {
		fprintf(stderr, "usage: %s PORT UIN PASSWORD sha1|gg32 [LOGIN_TIMEOUT_SECONDS]\n", argv[0]);
		return 2;
	}
	limit = argc > 5 ? atoi(argv[5]) : 10;

	memset(&p, 0, sizeof(p));
	p.struct_size = sizeof(p);
	p.uin = (uin_t)strtoul(argv[2], NULL, 10);
	p.password = argv[3];
	p.hash_type = strcmp(argv[4], "gg32") == 0 ? GG_LOGIN_HASH_GG32 : GG_LOGIN_HASH_SHA1;
	p.async = 1;
	p.protocol_version = GG_PROTOCOL_VERSION_100; /* GG 8.0 packets, not GG 11 protobuf */
	p.tls = GG_SSL_DISABLED;
	p.encoding = GG_ENCODING_UTF8;
	p.server_addr = inet_addr("127.0.0.1"); /* with server_port: no HTTP hub lookup */
	p.server_port = (uint16_t)atoi(argv[1]);

	sess = gg_login(&p);
	if (!sess) {
		emit("login_error", "errno", 'd', (long)errno, NULL);
		return 1;
	}

	while (!done) {
		struct pollfd fds[2];
		struct gg_event *e;
		double budget;
		int n;

		/* Every state but CONNECTED is a wait for the server: bound it ourselves. */
		if (sess->state != last_state) {
			last_state = sess->state;
			state_since = now();
		}
		budget = (sess->state == GG_STATE_CONNECTED) ? -1 : limit - (now() - state_since);
		if (budget != -1 && budget <= 0) {
			emit("timeout", "state", 'd', (long)sess->state, NULL);
			break;
		}

		fds[0].fd = 0;
		fds[0].events = POLLIN;
		fds[1].fd = sess->fd;
		fds[1].events = ((sess->check & GG_CHECK_READ) ? POLLIN : 0) |
				((sess->check & GG_CHECK_WRITE) ? POLLOUT : 0);
		n = poll(fds, 2, budget < 0 ? -1 : (int)(budget * 1000) + 1);
		if (n < 0 && errno != EINTR) {
			perror("poll");
			break;
		}
		if (n <= 0)
			continue;

		if (fds[1].revents) {
			e = gg_watch_fd(sess);
			if (!e) {
				/* A lost connection is NULL plus errno, never an event. */
				emit("lost", "errno", 'd', (long)errno, "error", 's', strerror(errno), NULL);
				break;
			}
			done = handle_event(e);
			gg_event_free(e);
		}

		if (!done && fds[0].revents) {
			ssize_t got = read(0, line + used, sizeof(line) - 1 - used);
			char *nl;
			if (got <= 0)
				break; /* the test went away: never outlive it */
			used += (size_t)got;
			line[used] = '\0';
			while (!done && (nl = strchr(line, '\n')) != NULL) {
				*nl = '\0';
				done = handle_command(line);
				used -= (size_t)(nl + 1 - line);
				memmove(line, nl + 1, used + 1);
			}
			if (used == sizeof(line) - 1) {
				emit("error", "reason", 's', "command line too long", NULL);
				used = 0;
			}
		}
	}
	gg_free_session(sess);
	return 0;
}
