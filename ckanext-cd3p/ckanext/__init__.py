# ckanext is a namespace shared with CKAN core and other extensions.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
