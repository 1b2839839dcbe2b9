"""The plugin side: a plugin and its models (plugin), the plugin project (project), and the
template a plugin is rendered from (template)."""
