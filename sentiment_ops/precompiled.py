"""Annotations compiled to SQL once per process (issue 12: compiling a page's querysets was
much of its cost). ``Precompiled(model, build)`` stands for the expression ``build()`` returns
— a subquery on the outer row, say — whose SQL depends on nothing but the models: it is built
and compiled the first time a query on each database uses it, then reused as text with its
parameters. The outer row is referred to by its table's name, so a precompiled expression
annotates a query's own rows (never a query that is itself a subquery of another) and reads
only that row's own columns (``OuterRef("pk")``; not a related row's, whose join the query
may name differently or lack)."""

from django.db.models import Expression


class Precompiled(Expression):
    """``build()``'s SQL and parameters, compiled once per database connection alias (so once per
    vendor: PostgreSQL and SQLite each get their own text) against a query on ``model``. Make
    one at import time and reuse it: the compiled text is kept on the instance (and shared by
    the copies a queryset makes of it)."""

    def __init__(self, model, build, output_field):
        super().__init__(output_field=output_field)
        self.model, self.build = model, build
        self.compiled = {}

    def as_sql(self, compiler, connection):
        found = self.compiled.get(connection.alias)
        if found is None:
            query = self.model._default_manager.annotate(precompiled=self.build()).query
            sql, params = query.get_compiler(connection=connection).compile(query.annotations["precompiled"])
            found = self.compiled[connection.alias] = (sql, tuple(params))
        return found

    def get_group_by_cols(self):
        return []
