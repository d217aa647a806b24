"""Runs a command on a new pseudo-terminal, as a user's terminal (or `script`) would.

usage: python3 pty-run.py <columns|unsized> <command> [args...]

The terminal's size is set as `stty cols <columns>` would (0: no columns), or, with `unsized`, never
set at all (a pty nobody sized, as `script` in a pipeline or a CI runner gives). Everything the
command writes goes to our stdout, up to LIMIT bytes (the rest is counted, not copied). A line
"TERM" on our stdin sends SIGTERM to the command. When PTY_RUN_MAX_BYTES is set and the command
writes more than that, it is killed (SIGKILL): a runaway writer ends the test instead of hanging it.
At the end one JSON line on stderr:
{"code": exit code or null, "signal": signal number or null, "bytes": bytes the command wrote}.
Only the standard library is used: python3 is on every machine where the tests run.
"""
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios

LIMIT = 4 * 1024 * 1024
MAX_BYTES = int(os.environ.get('PTY_RUN_MAX_BYTES', '0'))

columns = None if sys.argv[1] == 'unsized' else int(sys.argv[1])
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    # On the terminal's slave side, before the command starts: rows, columns, pixel sizes.
    if columns is not None:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 24 if columns else 0, columns, 0, 0))
    os.execvp(argv[0], argv)

total = 0
out = sys.stdout.buffer
stdin_open = True
while True:
    watched = [fd] + ([sys.stdin] if stdin_open else [])
    ready, _, _ = select.select(watched, [], [])
    if sys.stdin in ready:
        line = sys.stdin.readline()
        if line == '':
            stdin_open = False
        elif line.strip() == 'TERM':
            os.kill(pid, signal.SIGTERM)
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        if total < LIMIT:
            out.write(data[: LIMIT - total])
            out.flush()
        total += len(data)
        if MAX_BYTES and total > MAX_BYTES:
            os.kill(pid, signal.SIGKILL)
            MAX_BYTES = 0

_, status = os.waitpid(pid, 0)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
sys.stderr.write(json.dumps({'code': code, 'signal': sig, 'bytes': total}) + '\n')
