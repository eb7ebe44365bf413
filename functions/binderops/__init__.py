"""binderops: the operations backbone of a BinderHub federation.

Each domain module takes plain data plus a warehouse or client and returns plain data;
``functions/main.py`` adapts Cloud Functions transport to them.
"""

__version__ = "0.1.0"
