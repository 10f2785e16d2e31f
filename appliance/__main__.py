"""`python -m appliance COMMAND`: init, run, check-config, reset-admin-password, console, backup,
restore, version."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from appliance import config as config_mod
from appliance.errors import ApplianceError, ConfigError, NotInitialisedError

EXIT_CONFIG = 2
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


def _load_config() -> config_mod.Config:
    return config_mod.load()


def cmd_init(args: argparse.Namespace) -> int:
    """First boot: data directory, config, keys, TLS certificate, database, admin password."""
    from appliance import datadir, firstboot

    root = config_mod.data_dir_from_env()
    if datadir.DataDir(root).initialised:
        if args.if_needed:
            return 0
        print(f"{root} is already initialised (use reset-admin-password for a new admin password)")
        return 1
    result = firstboot.initialise(root)
    print(f"initialised {root}")
    print(f"TLS certificate SHA-256 fingerprint: {result.fingerprint}")
    if result.admin_password:
        print("log in as user 'admin' with this one-time password (you must change it at first login):")
        print(f"admin password: {result.admin_password}", flush=True)
    if result.console_password:
        print(f"console password: {result.console_password}", flush=True)
    if result.snmp_v3:
        print(result.snmp_v3, flush=True)  # monitoring's SNMPv3 user and keys (also in data/keys/snmp.json)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the appliance until SIGTERM."""
    from appliance.logs import setup_logging
    from appliance.startup import import_peewee_for

    cfg = _load_config()
    import_peewee_for(cfg.database_url)
    from appliance.runtime import run_until_signal

    setup_logging(cfg.get("log", "level"))
    return asyncio.run(run_until_signal(cfg))


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate the configuration and say so."""
    cfg = _load_config()
    print(f"configuration OK: {cfg.source}")
    return 0


def _in_database(fn, *args):
    """Run `fn` in one transaction on the configured (migrated) database, from the command line."""
    from appliance.db import Database

    db = Database(_load_config().database_url)
    try:
        with db.peewee.connection_context():
            db.migrate()
            with db.peewee.atomic():
                return fn(*args)
    finally:
        db.close()


def cmd_reset_admin_password(args: argparse.Namespace) -> int:
    """Give a user (default: admin) a new one-time password."""
    from appliance import accounts

    password = _in_database(accounts.reset_password, args.user)
    print(f"new one-time password for {args.user} (must be changed at next login):")
    print(f"{'admin' if args.user == accounts.ADMIN_USERNAME else args.user} password: {password}")
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    """The console menu on this terminal (the console password first)."""
    from appliance.console.session import run_on_current_terminal
    from appliance.datadir import DataDir

    cfg = _load_config()
    if not DataDir(cfg.data_dir).initialised:
        raise NotInitialisedError(f"{cfg.data_dir} is not initialised: run `python -m appliance init`")
    run_on_current_terminal(cfg, args.baud)
    return 0


def cmd_console_password(args: argparse.Namespace) -> int:
    """Give the serial console a new password (for whoever has a root shell and forgot it)."""
    from appliance.console.auth import set_console_password

    root = config_mod.data_dir_from_env()
    if not (root / ".initialised").exists():
        raise NotInitialisedError(f"{root} is not initialised: run `python -m appliance init`")
    print(f"console password: {set_console_password(root)}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a backup archive."""
    from appliance.backup import make_backup
    from appliance.datadir import DataDir

    cfg = _load_config()
    path = make_backup(DataDir(cfg.data_dir), cfg.database_url, Path(args.dest) if args.dest else None)
    print(f"backup written: {path}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup archive (stop the appliance first)."""
    from appliance.backup import restore_backup
    from appliance.datadir import DataDir

    root = config_mod.data_dir_from_env()
    cfg = config_mod.load(root) if (root / config_mod.CONFIG_FILE).exists() else None
    url = cfg.database_url if cfg else f"sqlite:///{root / 'appliance.db'}"
    restore_backup(Path(args.archive), DataDir(root), url)
    print(f"restored {args.archive} into {root}")
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    """Verify a signed update bundle and install it (or, with --check, only verify it)."""
    from appliance.update.errors import BundleRejected
    from appliance.update.install import check_bundle, install_update
    from appliance.update.staging import install_staged

    cfg = _load_config()
    if args.staged:
        print(install_staged(cfg))
        return 0
    if not args.bundle:
        print("give the update FILE, or --staged", file=sys.stderr)
        return EXIT_CONFIG
    bundle = Path(args.bundle)
    try:
        if args.check:
            manifest = check_bundle(bundle, cfg)
            print(f"bundle OK: version {manifest.version}, {len(manifest.files)} files, signature valid")
            return 0
        done = install_update(bundle, cfg)
    except BundleRejected as exc:
        print(f"update refused: {exc}. Nothing was changed.", file=sys.stderr)
        return 1
    print(f"updated {done.previous} -> {done.version}; data backed up first to {done.backup}")
    return 0


def cmd_demo_setup(args: argparse.Namespace) -> int:
    """Create the demo organisation for the emulated lines (see appliance/demo.py)."""
    from appliance.demo import DEMO_AGENT, set_up_demo

    result = _in_database(set_up_demo)
    print(f"demo tenant ready; numbers served by its mailbox: {', '.join(result.addresses) or 'already set up'}")
    if result.agent_password:
        print(f"{DEMO_AGENT} password: {result.agent_password}  (one-time; extension 2001; restart or use "
              "Admin → Queues to bring the agent into a running ACD)")
    return 0


def cmd_version(args: argparse.Namespace) -> int:
    """Print the version."""
    from appliance.runtime import VERSION
    print(f"appliance {VERSION}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(prog="python -m appliance", description="Contact-center appliance")
    sub = p.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="first boot: create the data directory and the admin password")
    init.add_argument("--if-needed", action="store_true", help="do nothing when already initialised")
    init.set_defaults(fn=cmd_init)
    sub.add_parser("run", help="run the appliance").set_defaults(fn=cmd_run)
    sub.add_parser("check-config", help="validate the configuration").set_defaults(fn=cmd_check_config)
    reset = sub.add_parser("reset-admin-password", help="print a new one-time admin password")
    reset.add_argument("--user", default="admin")
    reset.set_defaults(fn=cmd_reset_admin_password)
    console = sub.add_parser("console", help="serial console menu on this terminal")
    console.add_argument("--baud", type=int, choices=sorted(BAUD_RATES),
                         help="set the line speed (a serial tty started by the getty unit)")
    console.set_defaults(fn=cmd_console)
    sub.add_parser("console-password", help="print a new serial console password").set_defaults(
        fn=cmd_console_password)
    backup = sub.add_parser("backup", help="write a backup archive")
    backup.add_argument("--dest", help="directory (default: <data>/backups)")
    backup.set_defaults(fn=cmd_backup)
    restore = sub.add_parser("restore", help="restore a backup archive (appliance stopped)")
    restore.add_argument("archive")
    restore.set_defaults(fn=cmd_restore)
    update = sub.add_parser("update", help="install a signed update bundle (rolls back if it fails)")
    update.add_argument("bundle", nargs="?")
    update.add_argument("--check", action="store_true", help="only verify the bundle")
    update.add_argument("--staged", action="store_true",
                        help="install the bundle staged by the admin console (appliance-update.service)")
    update.set_defaults(fn=cmd_update)
    sub.add_parser("demo-setup", help="demo tenant, mailbox and agent for the emulated lines").set_defaults(
        fn=cmd_demo_setup)
    sub.add_parser("version", help="print the version").set_defaults(fn=cmd_version)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; configuration errors are one line and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except NotInitialisedError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ApplianceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
