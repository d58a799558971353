from setuptools import find_namespace_packages, setup

# Babel extractor of our YAML files' texts (by module path: no entry point to install first)
YAML = "ckanext.cd3p.common.i18n:extract_yaml"

setup(
    name="ckanext-cd3p",
    version="0.1.0",
    package_dir={"": "ckanext-cd3p"},
    packages=find_namespace_packages("ckanext-cd3p", include=["ckanext.cd3p", "ckanext.cd3p.*"]),
    include_package_data=True,
    entry_points={
        "ckan.plugins": ["cd3p = ckanext.cd3p.plugin:Cd3pPlugin"],
        # DCAT-US 3 for our schema (dcatus/profiles.py), for ckanext-dcat's RDF endpoints
        "ckan.rdf.profiles": ["cd3p_dcat_us_3 = ckanext.cd3p.dcatus.profiles:CD3PDCATUS3Profile"],
    },
    # What people read, for Babel (`make i18n`): Python, the templates and e-mails (CKAN's Jinja
    # extractor), the JavaScript, and the texts of our YAML files (common/i18n.py: schema labels,
    # help texts and choices; indicator and measure titles and descriptions).
    message_extractors={
        "ckanext-cd3p/ckanext/cd3p": [
            ("migration/**.py", "ignore", None),
            ("**.py", "python", None),
            ("templates/**.html", "ckan", None),
            ("templates/**.txt", "ckan", None),
            ("assets/vendor/**", "ignore", None),
            ("assets/**.js", "javascript", None),
            ("catalog/schemas/**.yaml", YAML, None),
            ("impact/schemas/**.yaml", YAML, None),
            ("indicators/indicators.yaml", YAML, None),
            ("impact/measures.yaml", YAML, None),
        ]
    },
)
