"""Malformed and hostile inputs, built from one small patch of our own.

`BASE` is a one-patch series whose hunks alone show a module parameter
overwritten at run time, so a reviewer that decoded a mangled variant
correctly still finds it (MODULE_PARAM_OVERWRITTEN at drivers/misc/gizmo.c:24).
Every case is a function returning the bytes of an mbox; `CASES` names them.
"""

from __future__ import annotations

import base64
import quopri
import re

MSGID = "20261104120000.4242-1-erin@example.org"

HEADERS = f"""From: Erin Coder <erin@example.org>
Date: Wed, 4 Nov 2026 12:00:00 +0000
Message-Id: <{MSGID}>
Subject: [PATCH] misc: gizmo: Turn fast mode off on broken parts
To: Maintainer <maint@example.org>
Cc: gizmo@lists.example.org
"""

MESSAGE = """Make fast mode a parameter and turn it off when a part is broken.

Signed-off-by: Erin Coder <erin@example.org>
---
 drivers/misc/gizmo.c | 3 +++
 1 file changed, 3 insertions(+)

"""

DIFF = """diff --git a/drivers/misc/gizmo.c b/drivers/misc/gizmo.c
index 1111111..2222222 100644
--- a/drivers/misc/gizmo.c
+++ b/drivers/misc/gizmo.c
@@ -5,6 +5,7 @@
 #include <linux/module.h>
 
 static bool fast = true;
+module_param(fast, bool, 0444);
 
 struct gizmo {
 	int count;
@@ -20,5 +21,7 @@ static void gizmo_reset(struct gizmo *gz)
 {
 	gz->count = 0;
+	if (gz->broken)
+		fast = false;
 	gz->state = 0;
 }
 
"""

SIGNATURE = "-- \n2.39.5\n"
SEPARATOR = "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"


def mail(headers: str = HEADERS, body: str = MESSAGE + DIFF + SIGNATURE) -> bytes:
    return (SEPARATOR + headers + "\n" + body).encode("utf-8", "surrogateescape")


def header(name: str, value: str | None, headers: str = HEADERS) -> str:
    """*headers* with *name* replaced by *value* (removed when None)."""
    kept = [h for h in headers.splitlines(True) if not h.lower().startswith(name.lower() + ":")]
    if value is not None:
        kept.insert(0, f"{name}: {value}\n")
    return "".join(kept)


def file_diff(path: str, body: str) -> str:
    return f"diff --git a/{path} b/{path}\n{body}"


# -- not a patch ------------------------------------------------------------

def empty() -> bytes:
    return b""


def not_mail() -> bytes:
    return b"\x00\x01\x02 this is not an email\n\xff\xfe binary junk\n"


def no_patch() -> bytes:
    return mail(header("Subject", "Question about gizmo"), "Does gizmo support fast mode?\n")


def patch_without_diff() -> bytes:
    return mail(body=MESSAGE + SIGNATURE)


def reply_only() -> bytes:
    headers = header("Subject", "Re: [PATCH] misc: gizmo: Turn fast mode off on broken parts")
    headers = header("Message-Id", "<reply-1@example.org>", headers)
    return mail(headers + f"In-Reply-To: <{MSGID}>\nReferences: <{MSGID}>\n",
                "> +\t\tfast = false;\n\nWhy not keep it?\n")


# -- diffs --------------------------------------------------------------------

def truncated_hunk() -> bytes:
    return mail(body=MESSAGE + DIFF.split("+\t\tfast = false;")[0])


def lying_hunk_counts() -> bytes:
    return mail(body=MESSAGE + DIFF.replace("@@ -20,5 +21,7 @@", "@@ -20,9 +21,12 @@") + SIGNATURE)


def no_newline_at_end() -> bytes:
    diff = DIFF.replace("@@ -20,5 +21,7 @@", "@@ -20,4 +21,6 @@").rstrip("\n")
    diff = diff[: diff.rindex("\n")] + "\n\\ No newline at end of file\n"
    return mail(body=MESSAGE + diff + SIGNATURE)


def crlf() -> bytes:
    return mail().replace(b"\n", b"\r\n")


def binary_patch() -> bytes:
    body = file_diff("firmware/gizmo.bin", "new file mode 100644\nindex 0000000..3333333\n"
                     "GIT binary patch\nliteral 4\nLcmZ?d00001\n\nliteral 0\nHcmV?d00001\n\n")
    return mail(body=MESSAGE + body + SIGNATURE)


def rename_copy_mode_only() -> bytes:
    body = (file_diff("drivers/misc/gizmo_old.c",
                      "similarity index 100%\nrename from drivers/misc/gizmo_old.c\n"
                      "rename to drivers/misc/gizmo.c\n")
            + file_diff("drivers/misc/gizmo.h",
                        "similarity index 100%\ncopy from drivers/misc/gizmo.h\n"
                        "copy to drivers/misc/gizmo2.h\n")
            + file_diff("scripts/gizmo.sh", "old mode 100644\nnew mode 100755\n"))
    return mail(body=MESSAGE + body + SIGNATURE)


def empty_new_file() -> bytes:
    body = file_diff("drivers/misc/empty.c", "new file mode 100644\nindex 0000000..e69de29\n")
    return mail(body=MESSAGE + body + SIGNATURE)


def deleted_file() -> bytes:
    body = file_diff("drivers/misc/gizmo.c",
                     "deleted file mode 100644\nindex 2222222..0000000\n"
                     "--- a/drivers/misc/gizmo.c\n+++ /dev/null\n@@ -1,3 +0,0 @@\n"
                     "-static bool fast = true;\n-module_param(fast, bool, 0444);\n-\n")
    return mail(body=MESSAGE + body + SIGNATURE)


def huge_patch(megabytes: int = 5) -> bytes:
    count = megabytes * 1024 * 1024 // 40
    added = "".join(f"+static int gizmo_table_{n:08d} = {n};\n" for n in range(count))
    body = file_diff("drivers/misc/gizmo_table.c",
                     "new file mode 100644\nindex 0000000..4444444\n--- /dev/null\n"
                     f"+++ b/drivers/misc/gizmo_table.c\n@@ -0,0 +1,{count} @@\n" + added)
    return mail(body=MESSAGE + DIFF + body + SIGNATURE)


def long_series(patches: int = 300) -> bytes:
    out = []
    for n in range(1, patches + 1):
        headers = header("Subject", f"[PATCH {n:03d}/{patches}] misc: gizmo: step {n}")
        headers = header("Message-Id", f"<20261104120000.4242-{n}-erin@example.org>", headers)
        if n > 1:
            headers += ("In-Reply-To: <20261104120000.4242-1-erin@example.org>\n"
                        "References: <20261104120000.4242-1-erin@example.org>\n")
        diff = DIFF if n == patches else DIFF.replace("fast = false;", f"gz->step = {n};")
        out.append(mail(headers, MESSAGE + diff + SIGNATURE))
    return b"".join(out)


def very_long_lines() -> bytes:
    long_comment = "+\t/* " + "x" * 200_000 + " */\n"
    diff = DIFF.replace("@@ -20,5 +21,7 @@", "@@ -20,5 +21,8 @@").replace(
        "+\tif (gz->broken)\n", long_comment + "+\tif (gz->broken)\n")
    return mail(header("Subject", "[PATCH] misc: gizmo: " + "y" * 5000), MESSAGE + diff + SIGNATURE)


# -- encodings ----------------------------------------------------------------

def latin1_body() -> bytes:
    headers = HEADERS + "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n"
    body = ("Fast mode na\xefvely assumed a working part; Jos\xe9 found one.\n\n"
            + MESSAGE + DIFF + SIGNATURE)
    return (SEPARATOR + headers + "\n").encode() + body.encode("latin-1")


def invalid_utf8_body() -> bytes:
    headers = HEADERS + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    return (SEPARATOR + headers + "\n").encode() + b"Broken \xc3\x28 bytes \xff here.\n\n" + \
        (MESSAGE + DIFF + SIGNATURE).encode()


def base64_body() -> bytes:
    headers = HEADERS + ("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                         "Content-Transfer-Encoding: base64\n")
    encoded = base64.encodebytes((MESSAGE + DIFF + SIGNATURE).encode()).decode()
    return (SEPARATOR + headers + "\n" + encoded).encode()


def quoted_printable_body() -> bytes:
    headers = HEADERS + ("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                         "Content-Transfer-Encoding: quoted-printable\n")
    encoded = quopri.encodestring((MESSAGE + DIFF + SIGNATURE).encode()).decode()
    return (SEPARATOR + headers + "\n" + encoded).encode()


def patch_as_attachment() -> bytes:
    headers = HEADERS + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="XyZ"\n'
    body = ("--XyZ\nContent-Type: text/plain; charset=utf-8\n\nPatch attached.\n\n"
            "--XyZ\nContent-Type: text/x-patch; charset=utf-8; name=\"gizmo.patch\"\n"
            "Content-Disposition: attachment; filename=\"gizmo.patch\"\n"
            "Content-Transfer-Encoding: base64\n\n"
            + base64.encodebytes((MESSAGE + DIFF).encode()).decode() + "--XyZ--\n")
    return (SEPARATOR + headers + "\n" + body).encode()


def rfc2047_subject_and_name() -> bytes:
    headers = header("From", "=?utf-8?q?Erin_K=C3=B6der?= <erin@example.org>")
    headers = header("Subject", "=?utf-8?b?W1BBVENIXSBtaXNjOiBnaXptbzogVHVybiBmYXN0IG1vZGUgb2Zm"
                                "IG9uIGJyb2tlbiBwYXJ0cyDigJQgc2Now7Zu?=", headers)
    return mail(headers)


# -- headers ------------------------------------------------------------------

def missing_message_id() -> bytes:
    return mail(header("Message-Id", None))


def missing_date() -> bytes:
    return mail(header("Date", None))


def malformed_date() -> bytes:
    return mail(header("Date", "Someday, 45 Smarch 20XX 25:61:00 +9999"))


def duplicate_message_ids() -> bytes:
    return mail() + mail()


def hostile_message_id(msgid: str = "../../etc/passwd%2f..\\ x@example.org") -> bytes:
    return mail(header("Message-Id", f"<{msgid}>"))


def references_loop() -> bytes:
    a = header("Message-Id", "<loop-a@example.org>") + \
        "In-Reply-To: <loop-b@example.org>\nReferences: <loop-b@example.org>\n"
    b = header("Message-Id", "<loop-b@example.org>",
               header("Subject", "Re: [PATCH] misc: gizmo: Turn fast mode off on broken parts")) + \
        "In-Reply-To: <loop-a@example.org>\nReferences: <loop-a@example.org>\n"
    return mail(a) + mail(b, "Looks odd.\n")


def crlf_injection() -> bytes:
    """A subject and a display name carrying encoded CR/LF and a header."""
    headers = header("Subject", "=?utf-8?q?[PATCH]_misc:_gizmo:_Turn_fast_mode_off=0D=0A"
                                "Bcc:_victim@example.com?=")
    headers = header("From", "=?utf-8?q?Erin=0D=0ABcc:_victim2@example.com?= <erin@example.org>",
                     headers)
    return mail(headers)


def template_syntax() -> bytes:
    """Received text that looks like jinja2 must come out as it went in."""
    return mail(header("Subject", "[PATCH] misc: gizmo: {{ 7*7 }} {% raw %}"))


def enormous_cc(count: int = 5000) -> bytes:
    cc = ",\n ".join(["gizmo@lists.example.org"]
                     + [f"Person {n} <p{n}@example.org>" for n in range(count)])
    return mail(header("Cc", cc))


# -- C ------------------------------------------------------------------------

def unparsable_c() -> bytes:
    diff = DIFF.replace("+\tif (gz->broken)\n", "+\tGIZMO_FOR_EACH(gz, {\n+\tif (gz->broken) {{\n")
    diff = diff.replace("@@ -20,5 +21,7 @@", "@@ -20,5 +21,10 @@").replace(
        "+\t\tfast = false;\n", "+\t\tfast = false;\n+\t#if GIZMO(\n+)) ]]\n")
    return mail(body=MESSAGE + diff + SIGNATURE)


CASES = {name: fn for name, fn in list(globals().items())
         if callable(fn) and re.match(r"^[a-z]", name) and fn.__module__ == __name__
         and name not in ("mail", "header", "file_diff")}
