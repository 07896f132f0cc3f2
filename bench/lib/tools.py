"""What the bench scripts need on the machine: Debian packages (installed with apt-get
when missing and running as root, else named with the exact command), the two Swift
builds (Ferry release, the Hummingbird peer), and Python packages from PyPI (matplotlib
for the chart, a FUSE binding for slow storage) installed with pip --user."""

import os
import shutil
import subprocess
import sys

# command → Debian package that provides it
PACKAGES = {"wrk": "wrk", "curl": "curl", "nginx": "nginx", "lighttpd": "lighttpd", "h2o": "h2o",
            "ab": "apache2-utils", "strace": "strace", "perf": "linux-perf",
            "fusermount3": "fuse3", "fincore": "util-linux-extra"}

HUMMINGBIRD_PACKAGE = os.path.join("bench", "peers", "hummingbird-file-server")
HUMMINGBIRD_SCRATCH = os.path.join(HUMMINGBIRD_PACKAGE, ".build-hb")
HUMMINGBIRD_PRODUCT = "HummingbirdFileServer"


def say(message):
    print(message, file=sys.stderr, flush=True)


def find(command):
    """The command's path, looking in the sbin directories too (nginx lives there)."""
    path = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"
    return shutil.which(command, path=path)


def ensure_commands(commands, install):
    """{command: path or None} for each command; with INSTALL, missing ones are installed
    from Debian's packages when running as root, otherwise the exact command is printed."""
    found = {command: find(command) for command in commands}
    missing = [command for command, path in found.items() if path is None]
    if not missing:
        return found
    packages = [PACKAGES[command] for command in missing]
    can_install = install and os.geteuid() == 0 and find("apt-get")
    if not can_install:
        say(f"bench: missing {', '.join(missing)}; install with: "
            f"sudo apt-get install -y {' '.join(packages)}")
        return found
    say(f"bench: installing {' '.join(packages)} from Debian's packages")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install_command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + packages
    if subprocess.run(install_command, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
        subprocess.run(install_command, env=env, stdout=subprocess.DEVNULL)
    for command in missing:
        found[command] = find(command)
        if found[command] is None:
            say(f"bench: could not install {PACKAGES[command]}; "
                f"try: sudo apt-get install -y {PACKAGES[command]}")
    return found


def ferry_binary(repo, given, smoke):
    """The ferry to measure: GIVEN (--ferry) when set, else a release build; a smoke run
    takes whatever is already built (release, then debug) before building a debug one."""
    if given:
        if not os.access(given, os.X_OK):
            raise RuntimeError(f"--ferry {given}: not an executable file")
        return given
    if smoke:
        for configuration in ("release", "debug"):
            path = os.path.join(repo, ".build", configuration, "ferry")
            if os.access(path, os.X_OK):
                return path
    return build_ferry(repo, release=not smoke)


def build_ferry(repo, release=True):
    """Builds the ferry product and returns the binary's path, or raises RuntimeError."""
    configuration = ["-c", "release"] if release else []
    say(f"bench: swift build {' '.join(configuration)} --product ferry")
    result = subprocess.run(["swift", "build", *configuration, "--product", "ferry"], cwd=repo)
    if result.returncode != 0:
        raise RuntimeError("building ferry failed (see the compiler output above)")
    bin_dir = subprocess.run(["swift", "build", *configuration, "--show-bin-path"], cwd=repo,
                             capture_output=True, text=True, check=True).stdout.strip()
    return os.path.join(bin_dir, "ferry")


def hummingbird_binary(repo):
    """Where the Hummingbird peer's release build puts its executable."""
    return os.path.join(repo, HUMMINGBIRD_SCRATCH, "release", HUMMINGBIRD_PRODUCT)


def build_hummingbird(repo):
    """Builds the Hummingbird peer (its own package); returns the binary or None after
    saying why not. The first build fetches and compiles SwiftNIO: minutes on 2 cores."""
    say("bench: swift build -c release of the Hummingbird peer (minutes the first time)")
    result = subprocess.run(
        ["swift", "build", "-c", "release", "--package-path", HUMMINGBIRD_PACKAGE,
         "--scratch-path", HUMMINGBIRD_SCRATCH, "--product", HUMMINGBIRD_PRODUCT],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        say("bench: the Hummingbird peer did not build; skipping it:\n" + result.stdout[-2000:])
        return None
    return hummingbird_binary(repo)


def ensure_matplotlib(install):
    """The pyplot module (Agg backend), installing matplotlib with pip --user when
    INSTALL and it is missing; None, after saying why, when it cannot be had."""
    try:
        return _pyplot()
    except ImportError:
        pass
    if not install:
        say("bench: matplotlib is not installed; no chart (pip install --user matplotlib)")
        return None
    failure = pip_install_user("matplotlib")
    if failure:
        say("bench: pip install --user matplotlib failed; no chart:\n" + failure)
        return None
    import site
    import importlib
    site.addsitedir(site.getusersitepackages())
    importlib.invalidate_caches()
    try:
        return _pyplot()
    except ImportError as error:
        say(f"bench: matplotlib still does not import ({error}); no chart")
        return None


def pip_install_user(package):
    """pip install --user PACKAGE for the interpreter running this script; None when it
    worked, else the end of pip's output."""
    say(f"bench: installing {package} with pip install --user")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--user", "-q", package],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return None if result.returncode == 0 else result.stdout[-1000:]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def version_line(command):
    """The first line a program prints about its version, for the record."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (result.stdout + result.stderr).strip()
    return text.splitlines()[0] if text else None
