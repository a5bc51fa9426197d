# GENERATED from solutions/__init__.py by tools/make_exercises.py.
# Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
"""Reference solutions of the course exercises: the instructors' single source of truth.

Each exercise is one function whose body sits between `### BEGIN SOLUTION` and
`### END SOLUTION`; its docstring (with the math and a worked example) is the task text.
`tools/make_exercises.py` turns this package into `exercises/` for the students.

    python tools/make_exercises.py          # regenerate exercises/
    python tools/make_exercises.py --check  # fail if exercises/ drifted from solutions/
    minigpt grade --impl solutions          # full score, or the reference is broken
"""
