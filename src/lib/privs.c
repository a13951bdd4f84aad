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

int privs_drop(const char *user, char *err, size_t errsize)
{
	struct passwd *pw = getpwnam(user);

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
