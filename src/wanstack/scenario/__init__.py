"""What the user wrote: the scenario file's schema, its loading with located errors, generators,
the EnOS import, and the deployment-model library applied to a topology (`build.Infrastructure`)."""
