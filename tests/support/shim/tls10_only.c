/*
 * LD_PRELOAD shim for tests/real_freerdp.rs: turns freerdp-shadow-cli (FreeRDP 2.11, OpenSSL 3)
 * into a TLS 1.0-only server, like a Windows Server 2008 R2 without KB3080079.
 *
 * Why a shim: FreeRDP calls SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) and
 * SSL_CTX_set_max_proto_version(ctx, 0) itself right after SSL_CTX_new, so MinProtocol /
 * MaxProtocol from OPENSSL_CONF are overwritten; and OpenSSL 3's default security level 1
 * refuses TLS 1.0 altogether. So every place that can set the bounds or the level is wrapped:
 *   - SSL_CTX_ctrl: SET_MIN/MAX_PROTO_VERSION (the macros FreeRDP uses) are forced to TLS 1.0;
 *   - SSL_CTX_set_security_level: forced to 0;
 *   - SSL_CTX_new and SSL_new: the pins are applied again on the fresh object, so whatever ran
 *     in between, the connection object itself is TLS 1.0 / level 0.
 * The real functions are found with dlsym(RTLD_NEXT, ...). Built by the test with gcc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

typedef long (*ctx_ctrl_fn)(SSL_CTX *, int, long, void *);
typedef long (*ssl_ctrl_fn)(SSL *, int, long, void *);
typedef void (*ctx_level_fn)(SSL_CTX *, int);
typedef void (*ssl_level_fn)(SSL *, int);
typedef SSL_CTX *(*ctx_new_fn)(const SSL_METHOD *);
typedef SSL *(*ssl_new_fn)(SSL_CTX *);

/* A missing symbol means the shim cannot do its job: fail loudly rather than serve TLS 1.2. */
static void *real(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (p == NULL) {
		fprintf(stderr, "tls10_only shim: %s not found: %s\n", name, dlerror());
		abort();
	}
	return p;
}

static void pin_ctx(SSL_CTX *ctx)
{
	ctx_ctrl_fn ctrl = (ctx_ctrl_fn)real("SSL_CTX_ctrl");
	ctx_level_fn level = (ctx_level_fn)real("SSL_CTX_set_security_level");
	ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_VERSION, NULL);
	ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_VERSION, NULL);
	level(ctx, 0);
}

long SSL_CTX_ctrl(SSL_CTX *ctx, int cmd, long larg, void *parg)
{
	ctx_ctrl_fn ctrl = (ctx_ctrl_fn)real("SSL_CTX_ctrl");
	if (cmd == SSL_CTRL_SET_MIN_PROTO_VERSION || cmd == SSL_CTRL_SET_MAX_PROTO_VERSION)
		larg = TLS1_VERSION;
	return ctrl(ctx, cmd, larg, parg);
}

void SSL_CTX_set_security_level(SSL_CTX *ctx, int level)
{
	(void)level;
	((ctx_level_fn)real("SSL_CTX_set_security_level"))(ctx, 0);
}

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method)
{
	SSL_CTX *ctx = ((ctx_new_fn)real("SSL_CTX_new"))(method);
	if (ctx != NULL)
		pin_ctx(ctx);
	return ctx;
}

SSL *SSL_new(SSL_CTX *ctx)
{
	SSL *ssl = ((ssl_new_fn)real("SSL_new"))(ctx);
	if (ssl != NULL) {
		ssl_ctrl_fn ctrl = (ssl_ctrl_fn)real("SSL_ctrl");
		ctrl(ssl, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_VERSION, NULL);
		ctrl(ssl, SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_VERSION, NULL);
		((ssl_level_fn)real("SSL_set_security_level"))(ssl, 0);
	}
	return ssl;
}
