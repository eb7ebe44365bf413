"""Federation health: every member of the register probed each minute (``rounds``), outages
opened and closed as incidents, launch outcomes read from BinderHub's own metrics, and a
public status page (``status``)."""
