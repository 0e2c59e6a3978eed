"""Work kinds. (On the ``tools`` branch this holds only the LLM work kind; the ``work`` branch's
``__init__`` with ``WorkContext`` supersedes this file at merge.)"""
