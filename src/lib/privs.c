/* SPDX-License-Identifier: ISC */
/* privs.c: dropping root for good (setgroups, setgid, setuid), verified
 * by trying to regain it. */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef ETRND_STATIC
/* A static binary must not let NSS dlopen() modules of another glibc: the
 * user comes from /etc/passwd itself (etrnd(8), LIBRARIES AND STATIC BUILDS). */
static struct passwd *lookup(const char *user)
{
	static struct passwd found;
	static char names[2][256];
	struct passwd *pw;
	FILE *f = fopen("/etc/passwd", "re");

	if (!f)
		return NULL;
	while ((pw = fgetpwent(f)) != NULL && strcmp(pw->pw_name, user) != 0)
		;
	if (pw && strlen(pw->pw_name) < sizeof names[0]) {
		found = *pw;
		found.pw_name = strcpy(names[0], pw->pw_name);
		found.pw_dir = found.pw_shell = found.pw_passwd = found.pw_gecos = names[1];
		pw = &found;
	}
	fclose(f);
	return pw;
}
#else
static struct passwd *lookup(const char *user)
{
	return getpwnam(user);
}
#endif

int privs_drop(const char *user, char *err, size_t errsize)
{
	struct passwd *pw = lookup(user);

	if (!pw) {
		snprintf(err, errsize, "unknown user %s", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errsize, "refusing to run as root (-u %s)", user);
		return -1;
	}
	if (geteuid() != 0) {
		if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
			return 0; /* already that user */
		snprintf(err, errsize, "not root: unable to switch to %s", user);
		return -1;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		snprintf(err, errsize, "unable to switch to %s: %s", user, strerror(errno));
		return -1;
	}
	gid_t groups[2];
	int ng = getgroups(2, groups);
	if (setuid(0) == 0 || getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid || ng != 1 || groups[0] != gid) {
		snprintf(err, errsize, "privileges of %s not dropped as expected", user);
		return -1;
	}
	return 0;
}
