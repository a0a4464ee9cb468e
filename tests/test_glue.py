"""shared.glue writes what myst-nb reads: a named, hidden record of the value's text."""

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from shared.glue import PREFIX, glue


def test_glue_records_the_value_under_its_name():
    InteractiveShell.instance()  # display() publishes through a shell, as in a kernel
    with capture_output() as captured:
        glue("speed_up", 2.5)
        glue("shown", "text", display=True)
    hidden, shown = captured.outputs
    assert hidden.data == {PREFIX + "text/plain": "2.5"}
    assert hidden.metadata["scrapbook"] == {"name": "speed_up", "mime_prefix": PREFIX}
    assert shown.data == {"text/plain": "'text'"} and shown.metadata["scrapbook"]["mime_prefix"] == ""


def test_glue_needs_a_name():
    with pytest.raises(ValueError, match="name"):
        glue("two words", 1)
