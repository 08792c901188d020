"""The two SFTP renames the store needs, sent as the requests that have the semantics it relies on.

sshfs's ``mv`` sends OpenSSH's ``posix-rename@openssh.com`` (replaces the target) and, on a server without it,
copies and deletes (not atomic at all); neither is a create-if-absent. So:

* :func:`link_new` makes a complete temporary file visible at its final name only if that name is free:
  ``hardlink@openssh.com`` (OpenSSH's server calls ``link(2)``, which fails on an existing name, atomically,
  like the ``file`` store's own ``os.link``), or on a server without that extension the protocol's plain
  ``SSH_FXP_RENAME``, which never replaces an existing file (OpenSSH implements it as ``link`` + ``unlink``
  too, falling back to ``stat`` + ``rename`` only on filesystems without hard links);
* :func:`rename_over` replaces atomically with ``posix-rename@openssh.com`` (``rename(2)``).

Both borrow a channel from sshfs's own pool (``fs._pool``, what every sshfs method uses).
"""

from __future__ import annotations

from typing import Any

from fsspec.asyn import sync


def link_new(fs: Any, src: str, dst: str) -> None:
    """Give the file ``src`` the name ``dst`` only if ``dst`` does not exist; FileExistsError if it does."""
    import asyncssh

    async def run() -> None:
        async with fs._pool.get() as channel:
            try:
                try:
                    await channel.link(src, dst)
                except asyncssh.SFTPOpUnsupported:
                    await channel.rename(src, dst)
            except asyncssh.SFTPFailure as exc:  # OpenSSH answers EEXIST with the generic SSH_FX_FAILURE
                if await channel.exists(dst):
                    raise FileExistsError(dst) from exc
                raise

    sync(fs.loop, run)


def rename_over(fs: Any, src: str, dst: str) -> None:
    """Rename ``src`` to ``dst``, replacing it atomically."""
    import asyncssh

    async def run() -> None:
        async with fs._pool.get() as channel:
            try:
                await channel.posix_rename(src, dst)
            except asyncssh.SFTPOpUnsupported:
                # A server without OpenSSH's extension: readers may briefly find no file (never a partial one).
                if await channel.exists(dst):
                    await channel.remove(dst)
                await channel.rename(src, dst)

    sync(fs.loop, run)
