"""Plugin {{ cookiecutter.plugin_name }}: tables {{ cookiecutter.table_prefix }}__* and Alembic branch "{{ cookiecutter.plugin_name }}".

Its models are in ``models.py``, its revisions in the ``migrations`` package.
"""
