"""The WSGI application uWSGI serves (config/uwsgi/cd3p.ini): CKAN, configured by the ini file that
``CKAN_INI`` names, logging as that file says (as ``ckan run`` would)."""

import os
from logging.config import fileConfig

from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app

_INI = os.environ["CKAN_INI"]
fileConfig(_INI, disable_existing_loggers=False)
application = make_app(CKANConfigLoader(_INI).get_config())
