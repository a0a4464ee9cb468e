# Colab set-up: install the book's code (the `shared` package, with the pinned tiktoken). Does nothing elsewhere.
import sys

if "google.colab" in sys.modules:
    import importlib
    import os
    import subprocess

    repo, folder = "https://github.com/tfs-book/transformer-from-scratch", "/content/tfs"
    if not os.path.isdir(f"{folder}/.git"):
        try:
            subprocess.run(["git", "clone", "--quiet", "--depth", "1", repo, folder], check=True)
        except subprocess.CalledProcessError as err:
            raise RuntimeError(f"Could not clone {repo} (git's message is above): check the "
                               "session's internet connection, then run this cell again.") from err
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", folder], check=True)
    importlib.invalidate_caches()  # find the package just installed
    os.environ.setdefault("TFS_DATA_DIR", f"{folder}/data")  # downloads go beside the code
