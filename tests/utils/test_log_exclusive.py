"""The command line prints each pixelseg message once, even when a library set up root logging."""

from __future__ import annotations

import logging

from pixelseg.utils.log import restored_logging, setup_logging


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_exclusive_console_keeps_messages_from_a_root_handler_and_is_restored():
    root, collect = logging.getLogger(), _Collect()
    logger = logging.getLogger("pixelseg")
    before = list(logger.handlers), logger.level, logger.propagate
    root.addHandler(collect)  # as onnxruntime's quantizer does with logging.basicConfig
    try:
        logger.propagate = True
        with restored_logging(exclusive=True):  # as pixelseg.cli.main runs a command
            setup_logging(logging.INFO)
            logging.getLogger("pixelseg.workflow.export").info("wrote model.onnx")
        assert collect.messages == []  # printed by pixelseg's own console handler only
        assert logging.getLogger("pixelseg").propagate  # a script's logging is as it was
        setup_logging(logging.INFO)  # outside the command line (train_network in a script): root sees it too
        logging.getLogger("pixelseg.training").info("validation")
        assert collect.messages == ["validation"]
    finally:
        root.removeHandler(collect)
        for handler in [h for h in logger.handlers if h not in before[0]]:
            logger.removeHandler(handler)
        logger.setLevel(before[1])
        logger.propagate = before[2]
