from setuptools import find_namespace_packages, setup

setup(
    name="ckanext-cd3p",
    version="0.1.0",
    package_dir={"": "ckanext-cd3p"},
    packages=find_namespace_packages("ckanext-cd3p", include=["ckanext.cd3p", "ckanext.cd3p.*"]),
    include_package_data=True,
    entry_points={"ckan.plugins": ["cd3p = ckanext.cd3p.plugin:Cd3pPlugin"]},
)
