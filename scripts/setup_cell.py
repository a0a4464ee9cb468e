# Colab set-up: fetch the book's code and install what Colab lacks. Does nothing elsewhere.
import sys
from pathlib import Path

if "google.colab" in sys.modules:
    import subprocess
    repo = "https://github.com/tfs-book/transformer-from-scratch"
    subprocess.run(["git", "clone", "--quiet", "--depth", "1", repo, "/content/tfs"], check=False)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "tiktoken"], check=True)
    sys.path.insert(0, "/content/tfs")
else:  # make the book's `shared` package importable from chapters/
    sys.path.insert(0, str(next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "shared").is_dir())))
