"""Push-to-deploy: GitHub webhooks start staged builds (Cloud Build or local), followed on
GitHub as Deployments and recorded in ``deployments``."""
